/**
 * One `images` row as docker's --format sees it (docker/cli formatter.ImageContext): `{{.ID}}`,
 * `{{.Repository}}`, `{{.Tag}}`, `{{.CreatedSince}}`, ... and what `--format json` prints.
 */
import type {ImageRow as ImageListRow} from '../engine/image-list.js'
import type {ListingFormat} from '../format/output.js'
import {goTime} from '../format/go-values.js'
import {ago, humanSize} from './table.js'

export const IMAGES_FORMAT: ListingFormat = {
  defaultTable: '{{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}',
  headers: {
    Repository: 'REPOSITORY',
    Tag: 'TAG',
    ID: 'IMAGE ID',
    Digest: 'DIGEST',
    CreatedSince: 'CREATED',
    CreatedAt: 'CREATED AT',
    Size: 'SIZE',
    VirtualSize: 'VIRTUAL SIZE',
    SharedSize: 'SHARED SIZE',
    UniqueSize: 'UNIQUE SIZE',
    Containers: 'CONTAINERS',
  },
}

/** With --digests docker adds the DIGEST column after TAG. */
export const IMAGES_DIGESTS_TABLE = '{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}'

export class ImageRow {
  readonly #r: ImageListRow
  readonly #trunc: boolean

  constructor(r: ImageListRow, opts: {trunc: boolean}) {
    this.#r = r
    this.#trunc = opts.trunc
  }

  get ID(): string {
    return this.#trunc ? this.#r.Id.replace(/^sha256:/, '').slice(0, 12) : this.#r.Id
  }
  get Repository(): string {
    return this.#r.Repository
  }
  get Tag(): string {
    return this.#r.Tag
  }
  get Digest(): string {
    return this.#r.Digest || '<none>'
  }
  get CreatedSince(): string {
    return ago(this.#r.Created)
  }
  get CreatedAt(): string {
    return this.#r.Created ? goTime(new Date(this.#r.Created)) : ''
  }
  get Size(): string {
    return humanSize(this.#r.Size)
  }
  get VirtualSize(): string {
    return humanSize(this.#r.Size)
  }
  get SharedSize(): string {
    return 'N/A'
  }
  get UniqueSize(): string {
    return 'N/A'
  }
  get Containers(): string {
    return 'N/A'
  }

  /** `--format json`: docker prints the fields as a map, keys sorted. */
  toJSON(): Record<string, string> {
    return {
      Containers: this.Containers,
      CreatedAt: this.CreatedAt,
      CreatedSince: this.CreatedSince,
      Digest: this.Digest,
      ID: this.ID,
      Repository: this.Repository,
      SharedSize: this.SharedSize,
      Size: this.Size,
      Tag: this.Tag,
      UniqueSize: this.UniqueSize,
      VirtualSize: this.VirtualSize,
    }
  }
}
