import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {parseDockerTime} from '../cli/docker-time.js'
import {parseFilterArgs} from '../cli/filter-args.js'
import * as engine from '../engine/events.js'
import type {EventMessage} from '../engine/events.js'
import {formatOutput, type ListingFormat} from '../format/output.js'
import {goStruct} from '../format/go-template.js'

const EVENTS_FORMAT: ListingFormat = {defaultTable: '{{.Type}}\t{{.Action}}\t{{.Actor.ID}}', headers: {Type: 'TYPE', Action: 'ACTION'}}

/** docker's default line: `TIME TYPE ACTION ID (k=v, ...)`, attributes sorted by key. */
export function eventText(e: EventMessage): string {
  const attrs = Object.entries(e.Actor.Attributes ?? {})
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
  return `${rfc3339Nano(e.timeNano)} ${e.Type} ${e.Action} ${e.Actor.ID}${attrs.length > 0 ? ` (${attrs.join(', ')})` : ''}`
}

/** Local time with nanoseconds and the zone offset (Go's RFC3339Nano, fixed 9 digits as docker prints). */
function rfc3339Nano(ns: number): string {
  const d = new Date(Math.floor(ns / 1e6))
  const pad = (n: number, w = 2) => String(n).padStart(w, '0')
  const off = -d.getTimezoneOffset()
  const zone = off === 0 ? 'Z' : `${off > 0 ? '+' : '-'}${pad(Math.floor(Math.abs(off) / 60))}:${pad(Math.abs(off) % 60)}`
  const frac = String(Math.round(ns % 1e9)).padStart(9, '0').slice(0, 9)
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${frac}${zone}`
}

export default class Events extends CtrCommand {
  static override description = 'Show container and image events (follows new ones until --until or Ctrl-C)'
  static override aliases = ['system:events']
  static override examples = [
    '<%= config.bin %> events',
    '<%= config.bin %> events --since 10m --until 0s',
    "<%= config.bin %> events --filter type=container --filter event=die --format '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'",
    '<%= config.bin %> events --since 1h --until 0s --format json',
  ]
  static override flags = {
    since: Flags.string({description: 'show events since a time (duration such as 10m, Unix timestamp or RFC 3339 date)'}),
    until: Flags.string({description: 'stop at this time (duration back from now, Unix timestamp or RFC 3339 date)'}),
    filter: Flags.string({char: 'f', description: 'filter: type, event, container, image, label (key=value)', multiple: true, multipleNonGreedy: true}),
    format: Flags.string({description: 'json, or a Go template'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Events)
    const now = Date.now()
    // without --since only new events, as docker
    const sinceMs = flags.since !== undefined ? parseDockerTime(flags.since, now, '--since') : now
    const untilMs = flags.until !== undefined ? parseDockerTime(flags.until, now, '--until') : undefined
    const filters = parseFilterArgs(flags.filter, ['type', 'event', 'container', 'image', 'label'])
    const format = flags.format === 'table' ? undefined : flags.format
    // a bad template fails before anything is followed
    if (format !== undefined && format !== 'json') formatOutput(format, [], EVENTS_FORMAT)
    const ctx = await this.context(flags.config)
    const controller = new AbortController()
    const stop = () => controller.abort()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    try {
      await engine.events(ctx, {
        sinceMs,
        untilMs,
        filters,
        follow: untilMs === undefined || untilMs > now,
        signal: controller.signal,
        onEvent: (e) => {
          process.stdout.write(format === undefined ? `${eventText(e)}\n` : format === 'json' ? `${JSON.stringify(e)}\n` : formatOutput(format, [goStruct({...e})], EVENTS_FORMAT))
        },
      })
    } finally {
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
    }
  }
}
