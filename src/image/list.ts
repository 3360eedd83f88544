import type {ImageRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {parseReference} from '../reference/parse.js'
import {listImages} from '../store/images.js'
import {formatPlatform} from './platform.js'

export interface ImageRow {
  Repository: string
  Tag: string
  /** Full image id (config digest). */
  Id: string
  /** The digest the image was pulled by (index digest when there was one). */
  Digest: string
  Created?: string
  /** Sum of compressed layer sizes. */
  Size: number
  Ref: string
  Platform: string
}

export function imageRow(r: ImageRecord): ImageRow {
  let repository = r.ref
  let tag = '<none>'
  try {
    const ref = parseReference(r.ref)
    repository = ref.familiarName
    tag = ref.tag ?? '<none>'
  } catch {
    // a record written by a future version; show it raw
  }
  return {
    Repository: repository,
    Tag: tag,
    Id: r.id,
    Digest: r.indexDigest ?? r.manifestDigest,
    Created: r.created,
    Size: r.size,
    Ref: r.ref,
    Platform: formatPlatform(r.platform),
  }
}

export async function imageRows(store: StoreLayout): Promise<ImageRow[]> {
  return (await listImages(store)).map(imageRow)
}
