import {existsSync} from 'node:fs'
import {mkdtemp, rename} from 'node:fs/promises'
import {join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {execa} from 'execa'
import {IntegrityError, LayerError, NotFoundError, RuntimeError} from '../errors.js'
import type {LayerRecord} from '../oci/types.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {lastLine, userNsArgv} from '../userns/exec.js'
import {packageRoot} from '../userns/helpers.js'
import {currentMapping} from '../userns/idmap.js'
import {removeTree} from '../userns/remove.js'
import type {UnpackEvent, UnpackJob} from './unpack-job.js'
import {shortDigest} from './unpack-job.js'

export interface LayerEvent {
  type: 'unpacking' | 'unpacked' | 'warning'
  /** The layer's (compressed) digest. */
  digest: string
  message?: string
}

const DIGEST = /^sha256:([0-9a-f]{64})$/

function hexOf(digest: string, what: string): string {
  const m = DIGEST.exec(digest)
  if (!m) throw new IntegrityError(`invalid ${what} ${JSON.stringify(digest.slice(0, 100))}: want sha256:<64 hex>`)
  return m[1]!
}

/** The directory an unpacked layer lives in: `store.layers/<diffid hex>`. */
export function layerDir(store: StoreLayout, diffId: string): string {
  return join(store.layers, hexOf(diffId, 'diff_id'))
}

/** dist/layer/unpack-main.js (also found when this module runs from src/ under vitest). */
function unpackMainPath(): string {
  const here = fileURLToPath(new URL('./unpack-main.js', import.meta.url))
  if (existsSync(here)) return here
  return join(packageRoot, 'dist', 'layer', 'unpack-main.js')
}

/**
 * Makes sure every layer has its unpacked directory `store.layers/<diffid hex>`. Missing layers are
 * unpacked from their blobs (`store.blobs/<hex>`) by ONE child process inside the user namespace
 * (unpack-main.js, two layers at a time), each into `store.layers/.tmp-XXXXXX`, then renamed to
 * the final name: nothing half-unpacked is ever visible there. If another process renamed the same
 * layer first, ours is discarded. On failure every temporary directory is removed (inside the user
 * namespace: it may hold sub-uid-owned files) and the error is rethrown.
 */
export async function ensureLayersUnpacked(
  store: StoreLayout,
  layers: LayerRecord[],
  opts: {onEvent?: (e: LayerEvent) => void} = {},
): Promise<void> {
  const onEvent = opts.onEvent ?? (() => {})
  const byDiffId = new Map<string, LayerRecord>()
  for (const layer of layers) {
    hexOf(layer.digest, 'layer digest')
    if (!existsSync(layerDir(store, layer.diffId))) byDiffId.set(layer.diffId, layer)
  }
  if (byDiffId.size === 0) return

  ensureDir(store.layers)
  const mapping = currentMapping()
  const job: UnpackJob = {layers: [], canChown: mapping.full, concurrency: 2}
  const temps: string[] = []
  try {
    for (const layer of byDiffId.values()) {
      const blob = join(store.blobs, hexOf(layer.digest, 'layer digest'))
      if (!existsSync(blob)) throw new NotFoundError(`layer blob ${layer.digest} is not in the store: pull the image again`)
      const dest = await mkdtemp(join(store.layers, '.tmp-'))
      temps.push(dest)
      job.layers.push({blob, mediaType: layer.mediaType, diffId: layer.diffId, dest, digest: layer.digest})
    }
    if (!mapping.full) {
      const first = job.layers[0]!
      onEvent({type: 'warning', digest: first.digest!, message: 'no /etc/subuid range for this user: file owners from the image are not kept'})
    }

    await runUnpackJob(job, mapping, onEvent)

    for (const [i, layer] of job.layers.entries()) {
      const final = layerDir(store, layer.diffId)
      try {
        await rename(layer.dest, final)
        temps[i] = ''
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
        // another ctr-ts unpacked the same layer first: keep theirs, ours is discarded below
      }
    }
  } finally {
    const left = temps.filter(Boolean)
    if (left.length > 0) await removeTree(...left).catch(() => {})
  }
}

async function runUnpackJob(job: UnpackJob, mapping: ReturnType<typeof currentMapping>, onEvent: (e: LayerEvent) => void): Promise<void> {
  const {file, args} = userNsArgv(mapping, [process.execPath, unpackMainPath()])
  const child = execa(file, args, {input: JSON.stringify(job), reject: false, buffer: {stdout: false, stderr: true}, lines: false})
  let failure: Extract<UnpackEvent, {type: 'error'}> | undefined
  const unpacked = new Map<string, string>()
  for await (const line of child.iterable({from: 'stdout'})) {
    let event: UnpackEvent
    try {
      event = JSON.parse(String(line)) as UnpackEvent
    } catch {
      continue
    }
    if (event.type === 'error') failure = event
    else if (event.type === 'unpacked') {
      unpacked.set(event.digest, event.diffId)
      onEvent({type: 'unpacked', digest: event.digest})
    } else if (event.type === 'warning') onEvent({type: 'warning', digest: event.digest, message: event.message})
    else if (event.type === 'unpacking') onEvent({type: 'unpacking', digest: event.digest})
  }
  const result = await child
  if (failure) {
    const Cls = failure.kind === 'IntegrityError' ? IntegrityError : LayerError
    throw new Cls(failure.message)
  }
  if (result.exitCode !== 0) {
    throw new RuntimeError(`unpacking layers failed: ${lastLine(String(result.stderr ?? '')) || `exit code ${result.exitCode}`}`)
  }
  for (const layer of job.layers) {
    if (unpacked.get(layer.digest!) !== layer.diffId) {
      throw new IntegrityError(`layer ${shortDigest(layer.digest!)} was not unpacked and verified`)
    }
  }
}
