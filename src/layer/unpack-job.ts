/** The unpack job (see unpack-main.ts for the protocol) and how it is run. */
import {createReadStream} from 'node:fs'
import {CtrError, describeError} from '../errors.js'
import {unpackLayer} from './unpack.js'

export interface UnpackJobLayer {
  blob: string
  mediaType: string
  diffId: string
  dest: string
  /** Compressed digest, used to name the layer in events and messages (default: diffId). */
  digest?: string
}

export interface UnpackJob {
  layers: UnpackJobLayer[]
  canChown: boolean
  /** Layers unpacked at once (default 2). */
  concurrency?: number
}

export type UnpackEvent =
  | {type: 'unpacking'; digest: string}
  | {type: 'warning'; digest: string; message: string}
  | {type: 'unpacked'; digest: string; diffId: string; entries: number; bytes: number}
  | {type: 'error'; digest: string; kind: string; message: string}

/** `sha256:0123456789ab`: how layers are named in messages. */
export function shortDigest(digest: string): string {
  const [alg, hex] = digest.split(':')
  return hex ? `${alg}:${hex.slice(0, 12)}` : digest
}


function isString(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0
}

export function parseJob(text: string): UnpackJob {
  const job = JSON.parse(text) as Partial<UnpackJob>
  if (!job || !Array.isArray(job.layers) || typeof job.canChown !== 'boolean') throw new Error('bad job: want {layers: [...], canChown}')
  for (const l of job.layers) {
    if (!l || !isString(l.blob) || !isString(l.mediaType) || !isString(l.diffId) || !isString(l.dest)) {
      throw new Error('bad job: each layer needs blob, mediaType, diffId and dest')
    }
  }
  return job as UnpackJob
}

/** Runs a job, emitting events; rejects with the first layer's error. */
export async function runJob(job: UnpackJob, emitEvent: (e: UnpackEvent) => void): Promise<void> {
  const queue = [...job.layers]
  const worker = async (): Promise<void> => {
    for (let layer = queue.shift(); layer; layer = queue.shift()) {
      const digest = layer.digest ?? layer.diffId
      emitEvent({type: 'unpacking', digest})
      try {
        const result = await unpackLayer(createReadStream(layer.blob), layer.dest, {
          layerName: shortDigest(digest),
          diffId: layer.diffId,
          mediaType: layer.mediaType,
          canChown: job.canChown,
          onWarning: (message) => emitEvent({type: 'warning', digest, message}),
        })
        emitEvent({type: 'unpacked', digest, ...result})
      } catch (err) {
        queue.length = 0
        const kind = err instanceof CtrError ? err.name : 'Error'
        emitEvent({type: 'error', digest, kind, message: describeError(err).message})
        throw err
      }
    }
  }
  const n = Math.max(1, Math.min(job.concurrency ?? 2, job.layers.length))
  await Promise.all(Array.from({length: n}, worker))
}

