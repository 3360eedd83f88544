import {watch} from 'node:fs'
import {type FileHandle, open, readdir, readFile, stat} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'
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
  /** Only records at or after / at or before these times (ms since the epoch, fractions kept); following ends after `untilMs`. */
  sinceMs?: number
  untilMs?: number
  /** docker's --details: the log's extra attributes before each line (ctr-ts records none: an empty set, one space). */
  details?: boolean
  write: (stream: 'stdout' | 'stderr', text: string) => void
  /** Stops following (a client that went away). */
  signal?: AbortSignal
}

/** A record's time in ms since the epoch, with the nanoseconds of the RFC 3339 text kept as a fraction. */
export function logTimeMs(time: string): number {
  const m = /^(.*T\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)$/.exec(time)
  if (!m) return Date.parse(time)
  return Date.parse(`${m[1]}${m[3]}`) + (m[2] ? Number(`0${m[2]}`) * 1000 : 0)
}

function emit(e: LogEntry, opts: LogOptions): void {
  if (opts.sinceMs !== undefined || opts.untilMs !== undefined) {
    const t = logTimeMs(e.time)
    if ((opts.sinceMs !== undefined && t < opts.sinceMs) || (opts.untilMs !== undefined && t > opts.untilMs)) return
  }
  const text = opts.details ? ` ${e.text}` : e.text
  opts.write(e.stream, opts.timestamps ? `${e.time} ${text}` : text)
}

/** The log's rotated files (ctr.log.1, ctr.log.2, ...), oldest first: ctr.log.N ... ctr.log.1. */
export async function rotatedLogFiles(path: string): Promise<string[]> {
  const base = basename(path)
  const names = await readdir(dirname(path)).catch(() => [] as string[])
  return names
    .map((name) => ({name, n: name.startsWith(`${base}.`) ? Number(name.slice(base.length + 1)) : NaN}))
    .filter((f) => Number.isInteger(f.n) && f.n > 0 && `${base}.${f.n}` === f.name)
    .sort((a, b) => b.n - a.n)
    .map((f) => join(dirname(path), f.name))
}

/** Everything from `offset` to the current end of an open file. */
async function readRest(file: FileHandle, offset: number): Promise<{text: string; end: number}> {
  const chunks: Buffer[] = []
  let end = offset
  for (;;) {
    const buf = Buffer.alloc(1 << 16)
    const {bytesRead} = await file.read(buf, 0, buf.length, end)
    if (bytesRead === 0) break
    chunks.push(buf.subarray(0, bytesRead))
    end += bytesRead
  }
  return {text: Buffer.concat(chunks).toString('utf8'), end}
}

async function readWhole(path: string): Promise<string> {
  return readFile(path, 'utf8').catch(() => '')
}

/**
 * docker logs: prints the log (its rotated files first, oldest first), optionally only the last
 * lines, optionally following it until the container exits. Following holds the current file
 * open, so when the shim rotates it the rest of it is still read before the new file.
 */
export async function showLogs(ctx: Context, rec: ContainerRecord, opts: LogOptions): Promise<void> {
  const path = containerPaths(ctx, rec.id).log
  let file = await open(path, 'a+')
  try {
    let carry = ''
    const take = (chunk: string): LogEntry[] => {
      const lines = (carry + chunk).split('\n')
      carry = lines.pop() ?? ''
      return lines.map(parseLogLine).filter((e): e is LogEntry => e !== undefined)
    }
    let old = ''
    for (const rotated of await rotatedLogFiles(path)) old += await readWhole(rotated)
    let {text, end} = await readRest(file, 0)
    let entries = joinEntries(take(old + text))
    old = text = ''
    if (opts.tail !== undefined && opts.tail >= 0) entries = entries.slice(Math.max(0, entries.length - opts.tail))
    for (const e of entries) emit(e, opts)
    if (!opts.follow || (opts.untilMs !== undefined && Date.now() > opts.untilMs)) return

    /** The rest of the open file; when the shim rotated it away, also the files since, then the new one. */
    const readNew = async (): Promise<string> => {
      const next = await readRest(file, end)
      end = next.end
      let out = next.text
      const current = await stat(path).catch(() => undefined)
      const ours = await file.stat()
      if (current === undefined) return out
      if (current.ino === ours.ino) {
        if (current.size < end) end = 0 // truncated (max-file=1): start over
        return out
      }
      // Rotated away: what the shim wrote to it since the read above, then the files rotated after
      // it (all of them when it is gone already), then the new file.
      out += (await readRest(file, end)).text
      const rotated = await rotatedLogFiles(path)
      const inodes = await Promise.all(rotated.map(async (r) => (await stat(r).catch(() => undefined))?.ino))
      for (const r of rotated.slice(inodes.indexOf(ours.ino) + 1)) out += await readWhole(r)
      await file.close()
      file = await open(path, 'a+')
      const fresh = await readRest(file, 0)
      end = fresh.end
      return out + fresh.text
    }

    await new Promise<void>((resolve, reject) => {
      let busy = false
      const pump = async () => {
        if (busy) return
        busy = true
        try {
          for (const e of take(await readNew())) emit(e, opts)
          if (!containerStatus(ctx, rec).running || (opts.untilMs !== undefined && Date.now() > opts.untilMs)) {
            for (const e of take(await readNew())) emit(e, opts)
            watcher.close()
            clearInterval(timer)
            resolve()
          }
        } catch (err) {
          watcher.close()
          clearInterval(timer)
          reject(err)
        } finally {
          busy = false
        }
      }
      // The directory watcher covers appends and rotations; the timer notices an exit that writes nothing.
      const watcher = watch(dirname(path), () => void pump())
      const timer = setInterval(() => void pump(), 500)
      const onAbort = () => {
        watcher.close()
        clearInterval(timer)
        resolve()
      }
      if (opts.signal?.aborted) return onAbort()
      opts.signal?.addEventListener('abort', onAbort, {once: true})
      void pump()
    })
  } finally {
    await file.close().catch(() => undefined)
  }
}
