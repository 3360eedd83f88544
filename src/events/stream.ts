/**
 * Reading the events journal: the events between two times, optionally following new ones as the
 * CLI and the shims append them (polled: the journal is one file, appended by other processes).
 */
import {closeSync, fstatSync, openSync, readSync, statSync} from 'node:fs'
import type {StoreLayout} from '../paths.js'
import {type EventMessage, parseEvents} from './journal.js'

export interface EventFilters {
  type?: string[]
  event?: string[]
  container?: string[]
  image?: string[]
  label?: string[]
}

export interface ReadEventsOptions {
  /** Milliseconds since the epoch (fractions allowed); inclusive. */
  sinceMs?: number
  /** Milliseconds since the epoch; follow stops once the clock passes it. */
  untilMs?: number
  filters?: EventFilters
  follow: boolean
  onEvent: (e: EventMessage) => void
  signal?: AbortSignal
  pollMs?: number
}

/** docker's filter rules: values of one key are alternatives, different keys must all match. */
export function matchesFilters(e: EventMessage, f: EventFilters = {}): boolean {
  const attrs = e.Actor.Attributes ?? {}
  const any = (values: string[] | undefined, test: (v: string) => boolean) => !values || values.length === 0 || values.some(test)
  const idMatches = (v: string) => e.Actor.ID === v || (/^[0-9a-f]+$/.test(v) && e.Actor.ID.startsWith(v))
  return (
    any(f.type, (v) => e.Type === v) &&
    any(f.event, (v) => e.Action === v || e.Action.startsWith(`${v}:`)) &&
    any(f.container, (v) => e.Type === 'container' && (idMatches(v) || attrs.name === v)) &&
    any(f.image, (v) => (e.Type === 'image' ? e.Actor.ID === v || attrs.name === v || imageNameMatches(e.Actor.ID, v) : attrs.image === v || imageNameMatches(attrs.image ?? '', v))) &&
    any(f.label, (v) => {
      const eq = v.indexOf('=')
      return eq === -1 ? v in attrs : attrs[v.slice(0, eq)] === v.slice(eq + 1)
    })
  )
}

/** `busybox` matches `busybox:latest` and `docker.io/library/busybox:latest` (and the other way round). */
function imageNameMatches(have: string, want: string): boolean {
  if (!have) return false
  const norm = (s: string) => {
    const short = s.replace(/^docker\.io\/(library\/)?/, '')
    return /[:@][^/]*$/.test(short) ? short : `${short}:latest`
  }
  return norm(have) === norm(want)
}

const inWindow = (e: EventMessage, o: ReadEventsOptions) => (o.sinceMs === undefined || e.timeNano / 1e6 >= o.sinceMs) && (o.untilMs === undefined || e.timeNano / 1e6 <= o.untilMs)

/** Reads the journal (from `offset`); returns the events and the new offset and inode. */
function readFrom(path: string, offset: number): {events: EventMessage[]; end: number; ino: number} {
  let fd: number
  try {
    fd = openSync(path, 'r')
  } catch {
    return {events: [], end: 0, ino: 0}
  }
  try {
    const {size, ino} = fstatSync(fd)
    if (size < offset) offset = 0
    const buf = Buffer.alloc(size - offset)
    let got = 0
    while (got < buf.length) {
      const n = readSync(fd, buf, got, buf.length - got, offset + got)
      if (n === 0) break
      got += n
    }
    // only whole lines: a line being written is read next time
    const last = buf.lastIndexOf(10, got - 1)
    const whole = last === -1 ? 0 : last + 1
    return {events: parseEvents(buf.subarray(0, whole).toString('utf8')), end: offset + whole, ino}
  } finally {
    closeSync(fd)
  }
}

/** Emits the events in the window that pass the filters; with `follow`, keeps going until `untilMs` or the signal. */
export async function readEvents(store: StoreLayout, o: ReadEventsOptions): Promise<void> {
  let {events, end, ino} = readFrom(store.events, 0)
  let lastNs = 0
  let skipUpTo = 0
  const emit = (list: EventMessage[]) => {
    for (const e of list) {
      if (e.timeNano <= skipUpTo) continue // shown before the journal was trimmed
      lastNs = Math.max(lastNs, e.timeNano)
      if (inWindow(e, o) && matchesFilters(e, o.filters)) o.onEvent(e)
    }
  }
  emit(events)
  if (!o.follow) return
  const poll = o.pollMs ?? 200
  while (!o.signal?.aborted) {
    if (o.untilMs !== undefined && Date.now() > o.untilMs) return
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, poll)
      o.signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), {once: true})
    })
    let now: number
    try {
      now = statSync(store.events).ino
    } catch {
      continue
    }
    if (now !== ino) {
      // trimmed (a new file): read it again, skipping what was shown
      end = 0
      skipUpTo = lastNs
    }
    const next = readFrom(store.events, end)
    end = next.end
    ino = next.ino
    emit(next.events)
  }
}
