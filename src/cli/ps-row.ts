/**
 * One `ps` row as docker's --format sees it (docker/cli formatter.ContainerContext): the fields
 * `{{.ID}}`, `{{.Names}}`, `{{.Label "k"}}` ... and what `--format json` prints for it.
 */
import {containerCommand, type ContainerSummary, healthSuffix} from '../engine/container-list.js'
import type {ListingFormat} from '../format/output.js'
import {goTime} from '../format/go-values.js'
import {ago, humanDuration, humanSize} from './table.js'

export const PS_FORMAT: ListingFormat = {
  defaultTable: '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
  headers: {
    ID: 'CONTAINER ID',
    Image: 'IMAGE',
    Command: 'COMMAND',
    CreatedAt: 'CREATED AT',
    RunningFor: 'CREATED',
    Ports: 'PORTS',
    State: 'STATE',
    Status: 'STATUS',
    Size: 'SIZE',
    Names: 'NAMES',
    Labels: 'LABELS',
    Label: () => 'LABEL',
    Mounts: 'MOUNTS',
    Networks: 'NETWORKS',
    LocalVolumes: 'LOCAL VOLUMES',
  },
}

/** The default table with -s: docker adds the SIZE column. */
export const PS_SIZE_TABLE = `${PS_FORMAT.defaultTable}\t{{.Size}}`

/** docker's Ellipsis: at most `max` characters, the last one `…` when cut. */
export function ellipsis(s: string, max: number): string {
  const chars = [...s]
  return chars.length <= max ? s : `${chars.slice(0, max - 1).join('')}…`
}

export function statusText(s: ContainerSummary['status'], now = Date.now()): string {
  // docker's wording: the exit code that caused the restart, and since when
  if (s.restarting) return `Restarting (${s.lastExit?.exitCode ?? 0}) ${ago(s.lastExit?.finishedAt, now)}`
  if (s.running) return `Up ${humanDuration(now - Date.parse(s.startedAt ?? new Date(now).toISOString()))}${healthSuffix(s.health)}`
  if (s.status === 'paused') return `Up ${humanDuration(now - Date.parse(s.startedAt ?? new Date(now).toISOString()))} (Paused)`
  if (s.status === 'exited') return `Exited (${s.exit?.exitCode ?? 0}) ${ago(s.exit?.finishedAt, now)}`
  return 'Created'
}

export function portsText(ports: ContainerSummary['ports']): string {
  return ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ')
}

export class PsRow {
  readonly #c: ContainerSummary
  readonly #trunc: boolean
  readonly #size?: number

  constructor(c: ContainerSummary, opts: {trunc: boolean; size?: number}) {
    this.#c = c
    this.#trunc = opts.trunc
    this.#size = opts.size
  }

  get ID(): string {
    return this.#trunc ? this.#c.record.id.slice(0, 12) : this.#c.record.id
  }
  get Names(): string {
    return this.#c.record.name
  }
  get Image(): string {
    const ref = this.#c.record.imageRef
    // docker shows an image given by id as the short id
    if (this.#trunc && /^(sha256:)?[0-9a-f]{64}$/.test(ref)) return ref.replace(/^sha256:/, '').slice(0, 12)
    return ref
  }
  get Command(): string {
    const cmd = containerCommand(this.#c.record).join(' ')
    return JSON.stringify(this.#trunc ? ellipsis(cmd, 20) : cmd)
  }
  get CreatedAt(): string {
    return goTime(new Date(this.#c.record.created))
  }
  get RunningFor(): string {
    return ago(this.#c.record.created)
  }
  get Ports(): string {
    return portsText(this.#c.ports)
  }
  get State(): string {
    return this.#c.status.status
  }
  get Status(): string {
    return statusText(this.#c.status)
  }
  get Size(): string {
    return this.#size === undefined ? '0B' : humanSize(this.#size)
  }
  get Labels(): string {
    return Object.entries(this.#c.record.labels ?? {})
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([k, v]) => `${k}=${v}`)
      .join(',')
  }
  Label(name: string): string {
    return this.#c.record.labels?.[name] ?? ''
  }
  get Mounts(): string {
    return ''
  }
  get Networks(): string {
    return this.#c.record.network
  }
  get LocalVolumes(): string {
    return '0'
  }

  /** `--format json`: docker prints the fields as a map, keys sorted. */
  toJSON(): Record<string, string> {
    return {
      Command: this.Command,
      CreatedAt: this.CreatedAt,
      ID: this.ID,
      Image: this.Image,
      Labels: this.Labels,
      LocalVolumes: this.LocalVolumes,
      Mounts: this.Mounts,
      Names: this.Names,
      Networks: this.Networks,
      Ports: this.Ports,
      RunningFor: this.RunningFor,
      Size: this.Size,
      State: this.State,
      Status: this.Status,
    }
  }
}
