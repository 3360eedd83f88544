/** The unpacking program's main thread (see unpack-main.ts for the protocol). */
const {describeError} = await import('../errors.js')
const {LayerQueue, parseJob, parseStreamLine, runQueue} = await import('./unpack-job.js')
const {GrowingBlob} = await import('./growing-blob.js')
const {UnpackThreads} = await import('./unpack-thread.js')
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
  // each layer's entries are applied by a worker thread running this same program; one starts
  // now, while the caller is still fetching the manifest
  // (CTR_TS_UNPACK_THREAD=0: everything in this thread, as before; for comparisons)
  const threads = process.env.CTR_TS_UNPACK_THREAD === '0' ? undefined : new UnpackThreads(new URL('./unpack-main.js', import.meta.url))
  threads?.prestart()
  const lines = stdinLines()
  const first = await lines.next()
  if (first.done) throw new Error('no job on stdin')
  const job = parseJob(first.value)
  emit({type: 'ready'})
  const queue = new LayerQueue()
  const running = runQueue(queue, job, emit, threads?.applier)
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
