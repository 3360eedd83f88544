/**
 * Entries applied by a worker thread: the main thread reads, decompresses, hashes and parses the
 * layer while the worker makes the file system calls (one create, write, chown, utimes and close
 * per file: half the time of a layer of many small files). Both halves run the same code as in
 * one thread (Unpacker in unpack.ts): the worker gets the entries in order, in batches (headers
 * plus one buffer with their file data, moved, not copied), and answers each batch; the first
 * error stops it and comes back with the entry it happened at.
 *
 * The worker is the unpacking program itself (unpack-main.js, bundled) started as a thread: it
 * calls `threadMain()` when it is not the main thread.
 */
import {Worker, parentPort, workerData} from 'node:worker_threads'
import type {Header} from 'tar-stream'
import {LayerError, UnsafePathError} from '../errors.js'
import {Unpacker, errorAtEntry, type EntryApplier, type FileSink, type LayerLimits, type UnpackOptions} from './unpack.js'

/** One entry of a batch: its header (times as milliseconds), raw xattrs, and its data's length in the batch buffer. */
interface EntryRecord {
  h: Omit<Header, 'mtime'> & {mtime: number}
  raw?: Array<[string, Uint8Array]>
  /** Bytes of file data (regular files only). */
  len?: number
}

type ToWorker = {batch: EntryRecord[]; data: Uint8Array} | {finish: true}

interface WireError {
  name: string
  message: string
  code?: string
  syscall?: string
  errno?: number
}

type FromWorker =
  | {ack: number}
  | {warning: string}
  | {error: WireError; entry?: string}
  | {done: number}

interface ThreadData {
  dest: string
  layerName: string
  canChown: boolean
  limits: LayerLimits
}

/** Entries, or data bytes, per batch. */
const BATCH_ENTRIES = 256
const BATCH_BYTES = 1024 * 1024
/** Batches sent and not yet applied before the parser waits (bounds memory). */
const MAX_IN_FLIGHT = 8

function toWire(err: unknown): WireError {
  if (!(err instanceof Error)) return {name: 'Error', message: String(err)}
  const e = err as NodeJS.ErrnoException
  return {
    name: err.name,
    message: err.message,
    ...(e.code !== undefined ? {code: e.code} : {}),
    ...(e.syscall !== undefined ? {syscall: e.syscall} : {}),
    ...(e.errno !== undefined ? {errno: e.errno} : {}),
  }
}

function fromWire(w: WireError): Error {
  if (w.name === 'UnsafePathError') return new UnsafePathError(w.message)
  if (w.name === 'LayerError') return new LayerError(w.message)
  const err = new Error(w.message) as NodeJS.ErrnoException
  if (w.code !== undefined) err.code = w.code
  if (w.syscall !== undefined) err.syscall = w.syscall
  if (w.errno !== undefined) err.errno = w.errno
  return err
}

/** An EntryApplier that hands the entries to a worker thread running `script` (unpack-main.js). */
class ThreadApplier implements EntryApplier {
  private readonly worker: Worker
  private batch: EntryRecord[] = []
  private chunks: Buffer[] = []
  private bytes = 0
  private inFlight = 0
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private finished: {resolve: (n: number) => void; reject: (e: Error) => void} | undefined

  constructor(script: URL, dest: string, opts: UnpackOptions, limits: LayerLimits) {
    const data: ThreadData = {dest, layerName: opts.layerName, canChown: opts.canChown, limits}
    this.worker = new Worker(script, {workerData: data, stdout: false, stderr: false})
    this.worker.on('message', (m: FromWorker) => {
      if ('ack' in m) {
        this.inFlight -= m.ack
        this.wakeUp()
      } else if ('warning' in m) opts.onWarning(m.warning)
      else if ('error' in m) this.fail(m.entry === undefined ? fromWire(m.error) : errorAtEntry(fromWire(m.error), m.entry))
      else if ('done' in m) {
        this.finished?.resolve(m.done)
        void this.worker.terminate()
      }
    })
    this.worker.on('error', (err) => this.fail(err))
    this.worker.on('exit', () => this.fail(new Error('the unpacking thread stopped')))
  }

  private fail(err: Error): void {
    this.failure ??= err
    this.finished?.reject(this.failure)
    this.finished = undefined
    this.wakeUp()
  }

  private wakeUp(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  entry(header: Header, rawXattrs?: Map<string, Buffer>): FileSink | undefined {
    if (this.failure) throw this.failure
    const rec: EntryRecord = {h: {...header, mtime: header.mtime?.getTime() ?? 0}}
    if (rawXattrs && rawXattrs.size > 0) rec.raw = [...rawXattrs]
    this.batch.push(rec)
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      if (this.batch.length >= BATCH_ENTRIES) this.flush()
      return undefined
    }
    rec.len = 0
    return {
      write: (chunk) => {
        rec.len! += chunk.length
        this.bytes += chunk.length
        this.chunks.push(chunk)
      },
      end: () => {
        if (this.batch.length >= BATCH_ENTRIES || this.bytes >= BATCH_BYTES) this.flush()
      },
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return
    // one buffer of its own (never a slice of Node's shared pool): moved to the worker
    const data = new Uint8Array(this.bytes)
    let off = 0
    for (const c of this.chunks) {
      data.set(c, off)
      off += c.length
    }
    const msg: ToWorker = {batch: this.batch, data}
    this.worker.postMessage(msg, [data.buffer])
    this.inFlight++
    this.batch = []
    this.chunks = []
    this.bytes = 0
  }

  ready(): Promise<void> | undefined {
    if (this.failure) return Promise.reject(this.failure)
    if (this.inFlight < MAX_IN_FLIGHT) return undefined
    return new Promise((resolve, reject) => {
      this.wake = () => (this.failure ? reject(this.failure) : resolve())
    })
  }

  finish(): Promise<number> {
    if (this.failure) return Promise.reject(this.failure)
    this.flush()
    return new Promise((resolve, reject) => {
      this.finished = {resolve, reject}
      this.worker.postMessage({finish: true} satisfies ToWorker)
    })
  }

  abort(): void {
    this.failure ??= new Error('aborted')
    void this.worker.terminate()
  }
}

/** An applier factory for unpackLayer's `applier` option: entries applied by a thread running `script`. */
export function threadApplier(script: URL): NonNullable<UnpackOptions['applier']> {
  return (dest, opts, limits) => new ThreadApplier(script, dest, opts, limits)
}

/** Whether this code runs as the unpacking thread (then call threadMain). */
export function isUnpackThread(): boolean {
  return parentPort !== null && (workerData as Partial<ThreadData> | undefined)?.dest !== undefined
}

/** The worker's side: applies each batch in order, then finishes; stops at the first error. */
export function threadMain(): void {
  const port = parentPort!
  const data = workerData as ThreadData
  const post = (m: FromWorker): void => port.postMessage(m)
  const unpacker = new Unpacker(data.dest, {layerName: data.layerName, canChown: data.canChown, onWarning: (warning) => post({warning})}, data.limits)
  let failed = false
  port.on('message', (m: ToWorker) => {
    if (failed) return
    if ('finish' in m) {
      unpacker.finish().then(
        (n) => post({done: n}),
        (err: unknown) => post({error: toWire(err)}),
      )
      return
    }
    const buf = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)
    let off = 0
    let name: string | undefined
    try {
      for (const rec of m.batch) {
        name = rec.h.name
        const header = {...rec.h, mtime: new Date(rec.h.mtime)} as Header
        const raw = rec.raw ? new Map(rec.raw.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])) : undefined
        const sink = unpacker.entry(header, raw)
        if (sink) {
          const len = rec.len ?? 0
          if (len > 0) sink.write(buf.subarray(off, off + len))
          off += len
          sink.end()
        }
      }
      post({ack: 1})
    } catch (err) {
      failed = true
      unpacker.abort()
      post({error: toWire(err), ...(name !== undefined ? {entry: name} : {})})
    }
  })
}
