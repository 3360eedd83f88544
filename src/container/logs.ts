import {createReadStream, watch} from 'node:fs'
import {open, stat} from 'node:fs/promises'
import type {Context} from '../context.js'
import {type ContainerRecord, containerPaths} from './record.js'
import {containerStatus} from './status.js'

/** One record of the shim's log: `<RFC3339Nano> <stdout|stderr> <F|P> <text>`. */
export interface LogEntry {
  time: string
  stream: 'stdout' | 'stderr'
  /** The text, with the newline restored for full lines. */
  text: string
}

export function parseLogLine(line: string): LogEntry | undefined {
  const m = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s.exec(line)
  if (!m) return undefined
  return {time: m[1]!, stream: m[2] as 'stdout' | 'stderr', text: m[3] === 'F' ? `${m[4]}\n` : m[4]!}
}

/** Joins partial records into whole lines, so `--tail` counts lines, not chunks. */
export function joinEntries(entries: LogEntry[]): LogEntry[] {
  const out: LogEntry[] = []
  const pending: Partial<Record<'stdout' | 'stderr', LogEntry>> = {}
  for (const e of entries) {
    const prev = pending[e.stream]
    const merged = prev ? {...prev, text: prev.text + e.text} : e
    if (merged.text.endsWith('\n')) {
      out.push(merged)
      delete pending[e.stream]
    } else pending[e.stream] = merged
  }
  for (const e of Object.values(pending)) if (e) out.push(e)
  return out
}

export interface LogOptions {
  follow: boolean
  tail?: number
  timestamps: boolean
  write: (stream: 'stdout' | 'stderr', text: string) => void
}

function emit(e: LogEntry, opts: LogOptions): void {
  opts.write(e.stream, opts.timestamps ? `${e.time} ${e.text}` : e.text)
}

async function readFrom(path: string, offset: number): Promise<{text: string; end: number}> {
  const size = (await stat(path).catch(() => undefined))?.size ?? 0
  if (size <= offset) return {text: '', end: offset}
  const chunks: Buffer[] = []
  for await (const chunk of createReadStream(path, {start: offset, end: size - 1})) chunks.push(chunk as Buffer)
  return {text: Buffer.concat(chunks).toString('utf8'), end: size}
}

/** docker logs: prints the log, optionally only the last lines, optionally following it until the container exits. */
export async function showLogs(ctx: Context, rec: ContainerRecord, opts: LogOptions): Promise<void> {
  const path = containerPaths(ctx, rec.id).log
  await (await open(path, 'a')).close()
  let {text, end} = await readFrom(path, 0)
  let carry = ''
  const take = (chunk: string): LogEntry[] => {
    const lines = (carry + chunk).split('\n')
    carry = lines.pop() ?? ''
    return lines.map(parseLogLine).filter((e): e is LogEntry => e !== undefined)
  }
  let entries = joinEntries(take(text))
  if (opts.tail !== undefined && opts.tail >= 0) entries = entries.slice(Math.max(0, entries.length - opts.tail))
  for (const e of entries) emit(e, opts)
  if (!opts.follow) return

  await new Promise<void>((resolve) => {
    let busy = false
    const pump = async () => {
      if (busy) return
      busy = true
      try {
        const next = await readFrom(path, end)
        end = next.end
        for (const e of take(next.text)) emit(e, opts)
        if (!containerStatus(ctx, rec).running) {
          const last = await readFrom(path, end)
          for (const e of take(last.text)) emit(e, opts)
          watcher.close()
          clearInterval(timer)
          resolve()
        }
      } finally {
        busy = false
      }
    }
    const watcher = watch(path, () => void pump())
    // The watcher covers appends; the timer notices an exit that writes nothing.
    const timer = setInterval(() => void pump(), 500)
    void pump()
  })
  text = ''
}
