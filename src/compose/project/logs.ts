/**
 * Several containers' logs as one stream, docker compose's way: each line prefixed with the
 * container's short name (`web-1  | `), the prefixes padded to one width and coloured when the
 * output is a terminal.
 */
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'

/** docker compose's palette: the prefixes cycle through these (ANSI SGR codes). */
const COLOURS = ['36', '33', '32', '35', '34', '96', '93', '92', '95', '94']

export interface LogSource {
  id: string
  /** The prefix: the container name without `PROJECT-` (web-1), or container_name. */
  label: string
  /** Follow only output from this time on (ms since the epoch): containers that were already running. */
  sinceMs?: number
}

export function shortName(project: string, container: string): string {
  return container.startsWith(`${project}-`) ? container.slice(project.length + 1) : container
}

/** A line-buffered prefixer per source; partial lines wait for their newline (flushed at the end). */
export class LogMux {
  readonly #width: number
  readonly #colour: boolean
  readonly #out: (text: string) => void
  #n = 0

  constructor(labels: readonly string[], o: {colour: boolean; noPrefix?: boolean; out: (text: string) => void}) {
    this.#width = o.noPrefix ? -1 : Math.max(0, ...labels.map((l) => l.length))
    this.#colour = o.colour
    this.#out = o.out
  }

  prefix(label: string, colourIndex: number): string {
    if (this.#width < 0) return ''
    const text = `${label.padEnd(this.#width + 1)} | `
    if (!this.#colour) return text
    return `\u001b[${COLOURS[colourIndex % COLOURS.length]}m${label.padEnd(this.#width + 1)} |\u001b[0m `
  }

  /** A writer for one source: text in, prefixed whole lines out. */
  writer(label: string): {write: (text: string) => void; end: () => void; line: (text: string) => void} {
    const p = this.prefix(label, this.#n++)
    let pending = ''
    const write = (text: string) => {
      const all = pending + text
      const lines = all.split('\n')
      pending = lines.pop()!
      if (lines.length > 0) this.#out(lines.map((l) => `${p}${l}\n`).join(''))
    }
    return {
      write,
      end: () => {
        if (pending) this.#out(`${p}${pending}\n`)
        pending = ''
      },
      line: (text: string) => this.#out(`${p}${text}\n`),
    }
  }
}

export interface MuxOptions {
  follow: boolean
  tail?: number
  timestamps: boolean
  /** --since/--until (ms since the epoch). */
  sinceMs?: number
  untilMs?: number
  colour: boolean
  noPrefix?: boolean
  out: (text: string) => void
  /** After a followed container's log ends: docker compose's `web-1 exited with code 0`. */
  onExit?: (source: LogSource, write: (text: string) => void) => Promise<void> | void
}

/** Shows (and follows) the sources' logs at the same time; resolves when every log has ended. */
export async function multiplexLogs(ctx: Context, sources: readonly LogSource[], o: MuxOptions): Promise<void> {
  const mux = new LogMux(
    sources.map((s) => s.label),
    {colour: o.colour, noPrefix: o.noPrefix, out: o.out},
  )
  await Promise.all(
    sources.map(async (s) => {
      const w = mux.writer(s.label)
      try {
        const sinceMs = s.sinceMs ?? o.sinceMs
        await containers.logs(ctx, s.id, {
          follow: o.follow,
          tail: o.tail,
          timestamps: o.timestamps,
          ...(sinceMs !== undefined ? {sinceMs} : {}),
          ...(o.untilMs !== undefined ? {untilMs: o.untilMs} : {}),
          write: (_stream, text) => w.write(text),
        })
      } catch {
        // removed meanwhile: its log ends here
      }
      w.end()
      if (o.onExit) await o.onExit(s, w.line)
    }),
  )
}
