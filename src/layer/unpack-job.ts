/** The unpack job (see unpack-main.ts for the protocol) and how it is run. */
import {createReadStream} from 'node:fs'
import {CtrError, describeError} from '../errors.js'
import type {GrowingBlob} from './growing-blob.js'
import {unpackLayer, type UnpackOptions} from './unpack.js'

export interface UnpackJobLayer {
  blob: string
  mediaType: string
  diffId: string
  dest: string
  /** Compressed digest, used to name the layer in events and messages (default: diffId). */
  digest?: string
  /**
   * The blob is still downloading into this file (then renamed to `blob`): it is read as it
   * grows, by the `grow` / `complete` / `cancel` lines that follow (they need `digest`).
   */
  ingest?: string
}

/** What follows a streamed layer: how much of it is on disk, that it is complete and verified, or that its download failed. */
export type IngestNews = {grow: string; bytes: number} | {complete: string; size?: number} | {cancel: string}

/** A layer waiting for a worker, with the growing blob it is read from (when streamed). */
export type QueuedLayer = UnpackJobLayer & {growing?: GrowingBlob}

/**
 * The job header. The layers follow on stdin, one JSON object per line, and a line
 * `{"end":true}` says there are no more. End of input without it means the caller is gone: the
 * unpacker stops at once (the caller's temporary directories are collected later).
 */
export interface UnpackJob {
  stream: true
  canChown: boolean
  /** Layers unpacked at once (default 2). */
  concurrency?: number
}

export type UnpackEvent =
  | {type: 'ready'}
  | {type: 'unpacking'; digest: string}
  | {type: 'warning'; digest: string; message: string}
  | {type: 'unpacked'; digest: string; diffId: string; entries: number; bytes: number}
  | {type: 'error'; digest: string; kind: string; message: string}
  /** A streamed layer whose download failed: dropped (its dest is the caller's to remove), the others go on. */
  | {type: 'cancelled'; digest: string}

/** `sha256:0123456789ab`: how layers are named in messages. */
export function shortDigest(digest: string): string {
  const [alg, hex] = digest.split(':')
  return hex ? `${alg}:${hex.slice(0, 12)}` : digest
}


function isString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0
}

function checkLayer(l: Partial<UnpackJobLayer> | undefined): UnpackJobLayer {
  if (!l || !isString(l.blob) || !isString(l.mediaType) || !isString(l.diffId) || !isString(l.dest)) {
    throw new Error('bad job: each layer needs blob, mediaType, diffId and dest')
  }
  if (l.ingest !== undefined && (!isString(l.ingest) || !isString(l.digest))) throw new Error('bad job: a streamed layer needs ingest and digest')
  return l as UnpackJobLayer
}

/** The job header (first line): `{stream: true, canChown, concurrency?}`. */
export function parseJob(text: string): UnpackJob {
  const job = JSON.parse(text) as Partial<UnpackJob> | null
  if (!job || typeof job.canChown !== 'boolean' || job.stream !== true || (job.concurrency !== undefined && !Number.isInteger(job.concurrency))) {
    throw new Error('bad job: want {stream: true, canChown, concurrency?}')
  }
  return {stream: true, canChown: job.canChown, ...(job.concurrency !== undefined ? {concurrency: job.concurrency} : {})}
}

/** One line after a streamed job's header: a layer, news of a streamed one, or `{"end":true}` (returned as 'end'). */
export function parseStreamLine(text: string): UnpackJobLayer | IngestNews | 'end' {
  const v = JSON.parse(text) as (Partial<UnpackJobLayer> & {end?: unknown; grow?: unknown; bytes?: unknown; complete?: unknown; size?: unknown; cancel?: unknown}) | null
  if (v && v.end === true) return 'end'
  if (v && v.grow !== undefined) {
    if (!isString(v.grow) || !Number.isSafeInteger(v.bytes)) throw new Error('bad job: want {grow: digest, bytes}')
    return {grow: v.grow, bytes: v.bytes as number}
  }
  if (v && v.complete !== undefined) {
    if (!isString(v.complete) || (v.size !== undefined && !Number.isSafeInteger(v.size))) throw new Error('bad job: want {complete: digest, size?}')
    return {complete: v.complete, ...(v.size !== undefined ? {size: v.size as number} : {})}
  }
  if (v && v.cancel !== undefined) {
    if (!isString(v.cancel)) throw new Error('bad job: want {cancel: digest}')
    return {cancel: v.cancel}
  }
  return checkLayer(v ?? undefined)
}

/** Layers waiting for a worker; they may keep arriving after the workers started. */
export class LayerQueue {
  private readonly items: QueuedLayer[] = []
  private readonly waiting: Array<(l: QueuedLayer | undefined) => void> = []
  private ended = false

  push(layer: QueuedLayer): void {
    if (this.ended) throw new Error('bad job: a layer after the end')
    const worker = this.waiting.shift()
    if (worker) worker(layer)
    else this.items.push(layer)
  }

  /** No more layers will come (queued ones are still handed out). */
  end(): void {
    this.ended = true
    for (const worker of this.waiting.splice(0)) worker(undefined)
  }

  /** Drops what is queued and ends (after a failure). */
  clear(): void {
    this.items.length = 0
    this.end()
  }

  /** The next layer, waiting for one to arrive; undefined once ended and empty. */
  next(): Promise<QueuedLayer | undefined> {
    const item = this.items.shift()
    if (item || this.ended) return Promise.resolve(item)
    return new Promise((resolve) => this.waiting.push(resolve))
  }
}

/**
 * Unpacks layers from `queue` as they arrive, `job.concurrency` at a time, emitting events;
 * resolves once the queue ended and every layer is unpacked, rejects with the first error.
 */
export async function runQueue(
  queue: LayerQueue,
  job: Pick<UnpackJob, 'canChown' | 'concurrency'>,
  emitEvent: (e: UnpackEvent) => void,
  applier?: UnpackOptions['applier'],
): Promise<void> {
  const worker = async (): Promise<void> => {
    for (let layer = await queue.next(); layer; layer = await queue.next()) {
      const digest = layer.digest ?? layer.diffId
      emitEvent({type: 'unpacking', digest})
      try {
        const input = layer.growing ? layer.growing.stream() : createReadStream(layer.blob, {highWaterMark: 256 * 1024})
        const result = await unpackLayer(input, layer.dest, {
          layerName: shortDigest(digest),
          diffId: layer.diffId,
          mediaType: layer.mediaType,
          canChown: job.canChown,
          onWarning: (message) => emitEvent({type: 'warning', digest, message}),
          ...(applier ? {applier} : {}),
        })
        emitEvent({type: 'unpacked', digest, ...result})
      } catch (err) {
        await layer.growing?.settled()
        if (layer.growing?.isCancelled) {
          emitEvent({type: 'cancelled', digest})
          continue
        }
        queue.clear()
        const kind = err instanceof CtrError ? err.name : 'Error'
        emitEvent({type: 'error', digest, kind, message: describeError(err).message})
        throw err
      }
    }
  }
  const n = Math.max(1, job.concurrency ?? 2)
  await Promise.all(Array.from({length: n}, worker))
}
