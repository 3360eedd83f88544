/**
 * The unpacking program that runs INSIDE the user namespace (as its root, so chown to image ids
 * works): `node dist/layer/unpack-main.js` reads a streamed job on stdin (`pull` starts this
 * program while it still fetches the manifest, and hands over each layer as soon as its blob is
 * verified and in the store), one JSON per line:
 *
 *   {"stream": true, "canChown": true, "concurrency"?: 2}
 *   {"blob": PATH, "mediaType": MT, "diffId": "sha256:..", "dest": DIR, "digest"?: D}   (any number)
 *   {"blob": .., "ingest": PATH, "digest": D, ...}   a layer still downloading into PATH, read as it grows:
 *   {"grow": D, "bytes": N}  {"complete": D, "size"?: N}  {"cancel": D}   (see growing-blob.ts)
 *   {"end": true}
 *
 * End of input before `{"end":true}` means the caller died: exit 1 at once. Each blob is unpacked
 * into its `dest` (an existing empty directory the caller chose), the diffId is verified, and
 * JSON lines go to stdout:
 *
 *   {"type":"ready"}  (the job header was read)
 *   {"type":"unpacking","digest":D}   {"type":"warning","digest":D,"message":M}
 *   {"type":"unpacked","digest":D,"diffId":..,"entries":N,"bytes":N}
 *   {"type":"error","digest":D,"kind":"LayerError"|"IntegrityError"|...,"message":M}
 *   {"type":"cancelled","digest":D}   (a streamed layer whose download failed: the others go on)
 *
 * On failure it exits 1 with one line on stderr (no stack trace); the caller removes the dests.
 */
import module from 'node:module'

// Every pull starts this program afresh: reuse V8's compiled code between runs.
module.enableCompileCache?.()
const {describeError} = await import('../errors.js')
const {LayerQueue, parseJob, parseStreamLine, runQueue} = await import('./unpack-job.js')
const {GrowingBlob} = await import('./growing-blob.js')
type UnpackEvent = import('./unpack-job.js').UnpackEvent

const MAX_LINE_BYTES = 16 * 1024 * 1024

/** Lines of stdin as they arrive (each bounded); the last one need not end with a newline. */
async function* stdinLines(): AsyncGenerator<string> {
  let pending: Buffer[] = []
  let size = 0
  for await (const chunk of process.stdin as AsyncIterable<Buffer>) {
    let from = 0
    for (let nl = chunk.indexOf(10, from); nl !== -1; nl = chunk.indexOf(10, from)) {
      pending.push(chunk.subarray(from, nl))
      const line = Buffer.concat(pending).toString('utf8')
      pending = []
      size = 0
      from = nl + 1
      if (line.trim() !== '') yield line
    }
    size += chunk.length - from
    if (size > MAX_LINE_BYTES) throw new Error('a job line on stdin is too large')
    pending.push(chunk.subarray(from))
  }
  const last = Buffer.concat(pending).toString('utf8')
  if (last.trim() !== '') yield last
}

function emit(event: UnpackEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`)
}

function fail(err: unknown): never {
  // stdout/stderr are pipes (synchronous on Linux): exit now, without waiting for the other
  // layers in flight; the caller removes every dest.
  process.stderr.write(`unpack: ${describeError(err).message}\n`)
  process.exit(1)
}

async function main(): Promise<void> {
  // No umask: files are created with their modes from the layer (no fchmod needed after).
  process.umask(0)
  const lines = stdinLines()
  const first = await lines.next()
  if (first.done) throw new Error('no job on stdin')
  const job = parseJob(first.value)
  emit({type: 'ready'})
  const queue = new LayerQueue()
  const running = runQueue(queue, job, emit)
  running.catch(fail)
  let ended = false
  const growing = new Map<string, InstanceType<typeof GrowingBlob>>()
  for await (const line of lines) {
    const item = parseStreamLine(line)
    if (item === 'end') {
      ended = true
      break
    }
    if ('grow' in item) growing.get(item.grow)?.grow(item.bytes)
    else if ('complete' in item) growing.get(item.complete)?.finish(item.size)
    else if ('cancel' in item) growing.get(item.cancel)?.cancel()
    else if (item.ingest !== undefined && item.digest !== undefined) {
      const g = new GrowingBlob(item.digest, item.ingest, item.blob)
      growing.set(item.digest, g)
      queue.push({...item, growing: g})
    } else queue.push(item)
  }
  if (!ended) throw new Error('input ended before the job did (caller gone)')
  queue.end()
  await running
}

await main().catch(fail)
