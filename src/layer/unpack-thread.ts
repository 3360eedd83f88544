/**
 * Entries applied by a worker thread: the main thread reads, decompresses, hashes and parses the
 * layer while the worker makes the file system calls (one create, write, chown, utimes and close
 * per file: half the time of a layer of many small files). Both halves run the same code as in
 * one thread (Unpacker in unpack.ts): the worker gets the entries in order, in batches (headers
 * plus one buffer with their file data, moved, not copied), and answers each batch; the first
 * error stops it and comes back with the entry it happened at.
 *
 * The worker is the unpacking program itself (unpack-main.js, bundled) started as a thread: it
 * calls `threadMain()` when it is not the main thread. It is started before the first layer
 * arrives (UnpackThreads.prestart), and applies the entries of every layer of the process (each
 * layer's messages carry its id): one thread for the file system calls, whatever the number of
 * layers unpacked at once, so layers do not compete for the 2 cores with thread start-ups.
 */
import {Worker, parentPort, workerData} from 'node:worker_threads'
import type {Header} from 'tar-stream'
import {LayerError, UnsafePathError} from '../errors.js'
import {Unpacker, errorAtEntry, type EntryApplier, type FileSink, type LayerLimits, type UnpackOptions} from './unpack.js'

/**
 * The entries of a batch, FIELDS values each (flat: cheaper to copy between threads than one
 * object per header): name, type, mode, uid, gid, mtime (ms), linkname, devmajor, devminor, pax,
 * raw SCHILY.xattr values, bytes of file data in the batch buffer (-1: not a regular file).
 */
type Field = string | number | null | Record<string, string> | Array<[string, Uint8Array]>
const FIELDS = 12

type ToWorker = {id: number} & ({init: LayerData} | {batch: Field[]; data: Uint8Array} | {finish: true} | {abort: true})

interface WireError {
  name: string
  message: string
  code?: string
  syscall?: string
  errno?: number
}

type FromWorker = {id: number} & ({ack: number; spare: ArrayBuffer} | {warning: string} | {error: WireError; entry?: string} | {done: number})

/** What a thread needs to unpack one layer. */
interface LayerData {
  dest: string
  layerName: string
  canChown: boolean
  limits: LayerLimits
}

/** workerData of an unpacking thread. */
const THREAD_MARK = 'ctr-ts-unpack-thread'


/**
 * Entries, or data bytes, per batch. Small enough that the worker starts soon and has little
 * left to do after the last entry is parsed (1024 entries: 4-8% slower on 20 000 files); the
 * bytes stay at 2 MiB (512 KiB: 8% slower on the 3 x 30 MB layers).
 */
const BATCH_ENTRIES = 256
const BATCH_BYTES = 2 * 1024 * 1024
/** Batches sent and not yet applied before the parser waits (bounds memory). */
const MAX_IN_FLIGHT = 16
/**
 * Size of the batch buffers kept for reuse: the worker moves each one back once applied. New
 * memory costs a page fault per 4 KiB at its first write (half the copying time, measured), and
 * a batch of small files fits in one. A bigger batch (a big file) gets a buffer of its own.
 */
const SPARE_BYTES = 4 * 1024 * 1024

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

/** An EntryApplier that hands the entries of one layer to a worker thread (see UnpackThreads). */
class ThreadApplier implements EntryApplier {
  private batch: Field[] = []
  private chunks: Buffer[] = []
  private bytes = 0
  /** Batch buffers back from the worker, to fill again. */
  private readonly spares: ArrayBuffer[] = []
  private inFlight = 0
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private finished: {resolve: (n: number) => void; reject: (e: Error) => void} | undefined
  private readonly onMessage = (m: FromWorker): void => {
    if (m.id !== this.id) return
    if ('ack' in m) {
      if (m.spare.byteLength === SPARE_BYTES && this.spares.length < MAX_IN_FLIGHT) this.spares.push(m.spare)
      this.inFlight -= m.ack
      this.wakeUp()
    } else if ('warning' in m) this.opts.onWarning(m.warning)
    else if ('error' in m) this.fail(m.entry === undefined ? fromWire(m.error) : errorAtEntry(fromWire(m.error), m.entry))
    else if ('done' in m) {
      const f = this.finished
      this.finished = undefined
      this.detach()
      f?.resolve(m.done)
    }
  }
  private readonly onError = (err: Error): void => this.fail(new LayerError(`layer ${this.opts.layerName}: the unpacking thread failed: ${err.message}`))
  private readonly onExit = (): void => this.fail(new LayerError(`layer ${this.opts.layerName}: the unpacking thread stopped`))
  private attached = true

  constructor(
    private readonly worker: Worker,
    private readonly id: number,
    private readonly release: () => void,
    dest: string,
    private readonly opts: UnpackOptions,
    limits: LayerLimits,
  ) {
    worker.on('message', this.onMessage)
    worker.on('error', this.onError)
    worker.on('exit', this.onExit)
    this.post({id, init: {dest, layerName: opts.layerName, canChown: opts.canChown, limits}})
  }

  private post(m: ToWorker, transfer?: ArrayBuffer[]): void {
    try {
      this.worker.postMessage(m, transfer)
    } catch (err) {
      this.fail(err instanceof Error ? err : new Error(String(err)))
    }
  }

  private detach(): void {
    if (!this.attached) return
    this.attached = false
    this.worker.off('message', this.onMessage)
    this.worker.off('error', this.onError)
    this.worker.off('exit', this.onExit)
    this.release()
  }

  private fail(err: Error): void {
    this.failure ??= err
    const f = this.finished
    this.finished = undefined
    if (this.attached) {
      this.detach()
      try {
        this.worker.postMessage({id: this.id, abort: true} satisfies ToWorker) // the thread drops this layer (the others go on)
      } catch {
        // the thread is gone
      }
    }
    f?.reject(this.failure)
    this.wakeUp()
  }

  private wakeUp(): void {
    const w = this.wake
    this.wake = undefined
    w?.()
  }

  entry(header: Header, rawXattrs?: Map<string, Buffer>): FileSink | undefined {
    if (this.failure) throw this.failure
    const b = this.batch
    const at = b.length
    b.push(
      header.name,
      header.type ?? null,
      header.mode ?? 0,
      header.uid ?? 0,
      header.gid ?? 0,
      header.mtime?.getTime() ?? 0,
      header.linkname ?? null,
      header.devmajor ?? 0,
      header.devminor ?? 0,
      (header.pax as Record<string, string> | null | undefined) ?? null,
      rawXattrs && rawXattrs.size > 0 ? [...rawXattrs] : null,
      -1,
    )
    if (header.type !== 'file' && header.type !== 'contiguous-file') {
      if (b.length >= BATCH_ENTRIES * FIELDS) this.flush()
      return undefined
    }
    b[at + FIELDS - 1] = 0
    return {
      write: (chunk) => {
        b[at + FIELDS - 1] = (b[at + FIELDS - 1] as number) + chunk.length
        this.bytes += chunk.length
        this.chunks.push(chunk)
      },
      end: () => {
        if (this.batch.length >= BATCH_ENTRIES * FIELDS || this.bytes >= BATCH_BYTES) this.flush()
      },
    }
  }

  private flush(): void {
    if (this.batch.length === 0) return
    // one buffer of its own (never a slice of Node's shared pool): moved to the worker, and back
    const buffer = this.bytes <= SPARE_BYTES ? (this.spares.pop() ?? new ArrayBuffer(SPARE_BYTES)) : new ArrayBuffer(this.bytes)
    const data = new Uint8Array(buffer, 0, this.bytes)
    let off = 0
    for (const c of this.chunks) {
      data.set(c, off)
      off += c.length
    }
    this.post({id: this.id, batch: this.batch, data}, [data.buffer])
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
      this.post({id: this.id, finish: true})
    })
  }

  abort(): void {
    if (!this.failure) this.fail(new Error('aborted'))
  }
}

/**
 * The unpacking thread of a process: `applier` (unpackLayer's option) hands each layer's entries
 * to it; `prestart()` starts it ahead of the first layer. It keeps the process alive only while
 * a layer uses it; one that stopped is replaced for the next layer.
 */
export class UnpackThreads {
  private worker: Worker | undefined
  private active = 0
  private nextId = 1

  constructor(private readonly script: URL) {}

  /** Starts the thread now (its start-up overlaps with waiting for the first layer). */
  prestart(): void {
    this.thread()
  }

  private thread(): Worker {
    if (this.worker) return this.worker
    const w = new Worker(this.script, {workerData: THREAD_MARK, stdout: false, stderr: false})
    w.setMaxListeners(0) // one set of listeners per layer in progress
    w.on('error', () => {}) // reported to the layers using it
    w.on('exit', () => {
      if (this.worker === w) this.worker = undefined
    })
    if (this.active === 0) w.unref()
    this.worker = w
    return w
  }

  readonly applier: NonNullable<UnpackOptions['applier']> = (dest, opts, limits) => {
    const w = this.thread()
    if (this.active++ === 0) w.ref()
    return new ThreadApplier(w, this.nextId++, () => {
      if (--this.active === 0) this.worker?.unref()
    }, dest, opts, limits)
  }
}

/** Whether this code runs as the unpacking thread (then call threadMain). */
export function isUnpackThread(): boolean {
  return parentPort !== null && workerData === THREAD_MARK
}

/** The thread's side: for each layer (by id), applies each batch in order, then finishes; a layer stops at its first error. */
export function threadMain(): void {
  const port = parentPort!
  const post = (m: FromWorker): void => port.postMessage(m)
  const layers = new Map<number, Unpacker>()
  const fail = (id: number, err: unknown, entry?: string): void => {
    layers.get(id)?.abort()
    layers.delete(id)
    post({id, error: toWire(err), ...(entry !== undefined ? {entry} : {})})
  }
  port.on('message', (m: ToWorker) => {
    const id = m.id
    if ('init' in m) {
      const d = m.init
      try {
        layers.set(id, new Unpacker(d.dest, {layerName: d.layerName, canChown: d.canChown, onWarning: (warning) => post({id, warning})}, d.limits))
      } catch (err) {
        fail(id, err)
      }
      return
    }
    const unpacker = layers.get(id)
    if ('abort' in m) {
      unpacker?.abort()
      layers.delete(id)
      return
    }
    if (!unpacker) return // failed or aborted: what was still on its way is dropped
    if ('finish' in m) {
      layers.delete(id)
      unpacker.finish().then(
        (n) => post({id, done: n}),
        (err: unknown) => post({id, error: toWire(err)}),
      )
      return
    }
    const buf = Buffer.from(m.data.buffer, m.data.byteOffset, m.data.byteLength)
    const b = m.batch
    let off = 0
    let name: string | undefined
    try {
      for (let i = 0; i < b.length; i += FIELDS) {
        name = b[i] as string
        const raw = b[i + 10] as Array<[string, Uint8Array]> | null
        const header = {
          name,
          type: b[i + 1] as Header['type'],
          mode: b[i + 2] as number,
          uid: b[i + 3] as number,
          gid: b[i + 4] as number,
          mtime: new Date(b[i + 5] as number),
          linkname: b[i + 6] as string | null,
          devmajor: b[i + 7] as number,
          devminor: b[i + 8] as number,
          pax: b[i + 9] as Record<string, string> | null,
        } as Header
        const sink = unpacker.entry(header, raw ? new Map(raw.map(([k, v]) => [k, Buffer.from(v.buffer, v.byteOffset, v.byteLength)])) : undefined)
        if (sink) {
          const len = b[i + 11] as number
          if (len > 0) sink.write(buf.subarray(off, off + len))
          off += len
          sink.end()
        }
      }
      const spare = m.data.buffer as ArrayBuffer
      port.postMessage({id, ack: 1, spare} satisfies FromWorker, [spare])
    } catch (err) {
      fail(id, err, name)
    }
  })
}
