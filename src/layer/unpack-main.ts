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
import {describeError} from '../errors.js'
import {parseJob, runJob, type UnpackEvent} from './unpack-job.js'

const MAX_JOB_BYTES = 16 * 1024 * 1024

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

async function main(): Promise<void> {
  process.umask(0o022)
  try {
    await runJob(parseJob(await readStdin()), emit)
  } catch (err) {
    // stdout/stderr are pipes (synchronous on Linux): exit now, without waiting for the other
    // layer in flight; the caller removes every dest.
    process.stderr.write(`unpack: ${describeError(err).message}\n`)
    process.exit(1)
  }
}

await main()
