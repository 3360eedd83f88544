/**
 * The events journal: what `events` reads, with no daemon. One JSON line per event in docker's
 * shape ({status, id, from, Type, Action, Actor{ID, Attributes}, scope, time, timeNano}), in the
 * store (`events.jsonl`), appended by the CLI (create, start, stop, kill, destroy, rename, pause,
 * unpause, pull, tag, untag, delete) and by each container's shim (`die` with exitCode,
 * shim/events.c). Every line is one write(2) on an O_APPEND descriptor of at most PIPE_BUF
 * bytes, so writers in several processes never interleave.
 *
 * Bounded: when the CLI appends and the journal is larger than MAX_BYTES, it keeps the newest
 * KEEP_BYTES (whole lines) by writing them to a temporary file renamed over the journal. A line
 * another process appends between that read and the rename is lost (a window of milliseconds
 * once per MAX_BYTES - KEEP_BYTES of events); docker's own event buffer keeps 256 events only.
 *
 * Recording is best effort: a journal that cannot be written never fails the command.
 */
import {randomBytes} from 'node:crypto'
import {appendFileSync, closeSync, openSync, readSync, renameSync, statSync, unlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import type {StoreLayout} from '../paths.js'

/** docker's events/message.go Message. */
export interface EventMessage {
  status?: string
  id?: string
  from?: string
  Type: 'container' | 'image'
  Action: string
  Actor: {ID: string; Attributes: Record<string, string>}
  scope: 'local'
  time: number
  timeNano: number
}

export const MAX_BYTES = 8 << 20
export const KEEP_BYTES = 4 << 20
/** Linux PIPE_BUF: appends up to this size are atomic. */
const ATOMIC_BYTES = 4096

/** The fields of a container an event names (a ContainerRecord has them). */
export interface EventContainer {
  id: string
  name: string
  imageRef: string
  labels?: Record<string, string>
}

/** docker's container event attributes: the labels, then image and name (and the action's own). */
export function containerAttributes(c: EventContainer, extra: Record<string, string> = {}): Record<string, string> {
  return {...(c.labels ?? {}), image: c.imageRef, name: c.name, ...extra}
}

/** One line of the journal for an event happening now; attributes left out when it would exceed PIPE_BUF. */
export function eventLine(type: EventMessage['Type'], action: string, id: string, attributes: Record<string, string>, from?: string, nowNs = wallClockNs()): string {
  const msg: EventMessage = {
    status: action,
    id,
    ...(from !== undefined ? {from} : {}),
    Type: type,
    Action: action,
    Actor: {ID: id, Attributes: {}},
    scope: 'local',
    time: Math.floor(nowNs / 1e9),
    timeNano: nowNs,
  }
  const line = () => `${JSON.stringify(msg)}\n`
  for (const [k, v] of Object.entries(attributes)) {
    msg.Actor.Attributes[k] = v
    if (Buffer.byteLength(line()) > ATOMIC_BYTES) delete msg.Actor.Attributes[k]
  }
  return line()
}

/** Nanoseconds since the epoch (as a float: exact to the microsecond, which is what Date gives). */
function wallClockNs(): number {
  return Number(process.hrtime.bigint() - START_HR) + START_NS
}
const START_HR = process.hrtime.bigint()
const START_NS = Date.now() * 1e6

/** Appends one line (best effort), trimming the journal first when it has grown past MAX_BYTES. */
export function appendEvent(store: StoreLayout, line: string): void {
  try {
    trimJournal(store.events)
    appendFileSync(store.events, line, {mode: 0o600, flag: 'a'})
  } catch {
    // the store is read-only or full: the command itself must not fail for its event
  }
}

function trimJournal(path: string): void {
  let size: number
  try {
    size = statSync(path).size
  } catch {
    return
  }
  if (size <= MAX_BYTES) return
  const fd = openSync(path, 'r')
  const buf = Buffer.alloc(KEEP_BYTES)
  let n: number
  try {
    n = readSync(fd, buf, 0, KEEP_BYTES, size - KEEP_BYTES)
  } finally {
    closeSync(fd)
  }
  const kept = buf.subarray(buf.indexOf(10) + 1, n)
  const tmp = join(path, '..', `.events-${process.pid}-${randomBytes(4).toString('hex')}`)
  try {
    writeFileSync(tmp, kept, {mode: 0o600})
    renameSync(tmp, path)
  } catch {
    try {
      unlinkSync(tmp)
    } catch {
      // not written
    }
  }
}

/** Records a container event (create, start, stop, kill, destroy, rename, pause, unpause, ...). */
export function recordContainerEvent(store: StoreLayout, c: EventContainer, action: string, extra: Record<string, string> = {}): void {
  appendEvent(store, eventLine('container', action, c.id, containerAttributes(c, extra), c.imageRef))
}

/** Records an image event: pull, tag, untag, delete (id: the reference or the image id, as docker). */
export function recordImageEvent(store: StoreLayout, action: string, id: string, attributes: Record<string, string> = {}): void {
  appendEvent(store, eventLine('image', action, id, attributes))
}

/** What the shim needs to record the container's `die`: the journal and the attributes as K=V. */
export function dieEventOptions(store: StoreLayout, c: EventContainer): {file: string; attrs: string[]} {
  return {file: store.events, attrs: Object.entries(containerAttributes(c)).map(([k, v]) => `${k}=${v}`)}
}

/**
 * A shell command (for `sh -c`, after the caller's own commands) that appends this container's
 * event with the time it runs: how the `--rm` exit command the shim runs records `destroy`.
 * The line is written by one printf (one write of less than PIPE_BUF bytes) to the journal.
 */
export function shellEventAppend(store: StoreLayout, c: EventContainer, action: string): string {
  const marker = 1_111_111_111_111_111_111
  const line = eventLine('container', action, c.id, containerAttributes(c), c.imageRef, marker).trimEnd()
  const [head, tail] = line.split(`"time":${Math.floor(marker / 1e9)},"timeNano":${marker}`) as [string, string]
  const q = (s: string) => `'${s.replaceAll("'", "'\\''")}'`
  return `ns=$(date +%s%N) && printf '%s"time":%s,"timeNano":%s%s\\n' ${q(head)} "\${ns%?????????}" "$ns" ${q(tail)} >> ${q(store.events)}`
}

/** Parses journal text into events; lines that are not events (a torn tail) are skipped. */
export function parseEvents(text: string): EventMessage[] {
  const out: EventMessage[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    try {
      const m = JSON.parse(line) as EventMessage
      if (m && typeof m === 'object' && typeof m.Action === 'string' && typeof m.timeNano === 'number' && m.Actor) out.push(m)
    } catch {
      // a partial line
    }
  }
  return out
}

/**
 * The exit code the shim recorded in `die` for container `id`, looked up in the newest `tailBytes`
 * of the journal: how a waiter learns the exit of a container removed (`--rm`) before it read the
 * exit file. undefined when no such event is there.
 */
export function lastDieExitCode(store: StoreLayout, id: string, tailBytes = 1 << 20): number | undefined {
  let text: string
  try {
    const size = statSync(store.events).size
    const fd = openSync(store.events, 'r')
    try {
      const want = Math.min(size, tailBytes)
      const buf = Buffer.alloc(want)
      const n = readSync(fd, buf, 0, want, size - want)
      text = buf.subarray(0, n).toString('utf8')
    } finally {
      closeSync(fd)
    }
  } catch {
    return undefined
  }
  const events = parseEvents(text)
  for (let i = events.length - 1; i >= 0; i--) {
    const e = events[i]!
    if (e.Type !== 'container' || e.Action !== 'die' || e.Actor.ID !== id) continue
    const code = Number(e.Actor.Attributes.exitCode)
    return Number.isInteger(code) ? code : undefined
  }
  return undefined
}

