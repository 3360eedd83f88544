/**
 * The unpacking program that runs INSIDE the user namespace (as its root, so chown to image ids
 * works): `node dist/layer/unpack-main.js` reads one JSON job on stdin,
 *
 *   {"layers": [{"blob": PATH, "mediaType": MT, "diffId": "sha256:..", "dest": DIR, "digest"?: D}],
 *    "canChown": true, "concurrency"?: 2}
 *
 * unpacks each blob into its `dest` (an existing empty directory the caller chose), verifies the
 * diffId, and prints JSON lines on stdout:
 *
 *   {"type":"unpacking","digest":D}   {"type":"warning","digest":D,"message":M}
 *   {"type":"unpacked","digest":D,"diffId":..,"entries":N,"bytes":N}
 *   {"type":"error","digest":D,"kind":"LayerError"|"IntegrityError"|...,"message":M}
 *
 * On failure it exits 1 with one line on stderr (no stack trace); the caller removes the dests.
 */
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

const MAX_JOB_BYTES = 16 * 1024 * 1024

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

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length
    if (size > MAX_JOB_BYTES) throw new Error('job on stdin is too large')
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks).toString('utf8')
}

function emit(event: UnpackEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

/** Runs a job, emitting events; rejects with the first layer's error. */
export async function runJob(job: UnpackJob, emitEvent: (e: UnpackEvent) => void = emit): Promise<void> {
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
  const results = await Promise.allSettled(Array.from({length: n}, worker))
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected')
  if (failed) throw failed.reason
}

async function main(): Promise<void> {
  process.umask(0o022)
  try {
    await runJob(parseJob(await readStdin()))
  } catch (err) {
    process.stderr.write(`unpack: ${describeError(err).message}\n`)
    process.exitCode = 1
  }
}

await main()
