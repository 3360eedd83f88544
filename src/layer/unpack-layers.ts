import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync} from 'node:fs'
import {mkdtemp, rename} from 'node:fs/promises'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {IntegrityError, LayerError, NotFoundError, RuntimeError} from '../errors.js'
import type {LayerRecord} from '../oci/types.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {lastLine, userNsArgv} from '../userns/exec.js'
import {packageRoot} from '../userns/helpers.js'
import {currentMapping, type UserNsMapping} from '../userns/idmap.js'
import {removeTree} from '../userns/remove.js'
import {writeLayerMarker} from '../store/layer-marker.js'
import type {UnpackEvent} from './unpack-job.js'
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

export interface UnpackSessionOptions {
  onEvent?: (e: LayerEvent) => void
  /** Layers unpacked at once by the child (default 3). */
  concurrency?: number
}

interface Pending {
  layer: LayerRecord
  dest: string
  resolve: () => void
  reject: (err: Error) => void
}

/**
 * ONE unpacking child inside the user namespace (unpack-main.js, a streamed job), started at
 * once so that its start-up overlaps whatever the caller does meanwhile (fetching the manifest,
 * downloading blobs), and fed layers one by one as their blobs land in the store. Each layer is
 * unpacked into `store.layers/.tmp-PID-XXXXXX` and renamed to `store.layers/<diffid hex>` only after
 * the child reported it complete with the expected diffId, and after its completeness marker
 * `<diffid hex>.complete` was written (store/layer-marker.ts): nothing half-unpacked is ever visible.
 * If another process renamed the same layer first, ours is discarded. On failure (or abort())
 * the child is stopped and every temporary directory is removed (inside the user namespace: it
 * may hold sub-uid-owned files). If this process is killed, the child sees its input end without
 * the closing line and exits; leftover `.tmp-*` directories are collected by gc.
 *
 * Durability: blobs are fsynced before their rename (store/blobs.ts); unpacked files are not
 * (one fsync per file would cost more than the unpack itself). After a crash a layer directory
 * may therefore hold truncated files: it can always be rebuilt from its verified blob
 * (`ctr-ts rmi` + pull). A killed process, unlike a power loss, never leaves one half-written.
 */
export class UnpackSession {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly pending = new Map<string, Pending>()
  private readonly temps = new Set<string>()
  private readonly queued = new Set<string>()
  private readonly renames = new Set<Promise<void>>()
  private readonly exited: Promise<{code: number | null; stderr: string}>
  private failure: Error | undefined
  private warned = false
  private ended = false

  private constructor(
    private readonly store: StoreLayout,
    private readonly mapping: UserNsMapping,
    private readonly onEvent: (e: LayerEvent) => void,
    concurrency: number,
  ) {
    const {file, args} = userNsArgv(mapping, [process.execPath, unpackMainPath()])
    this.child = spawn(file, args, {stdio: ['pipe', 'pipe', 'pipe']})
    let stderr = ''
    this.child.stderr.setEncoding('utf8')
    this.child.stderr.on('data', (d: string) => {
      if (stderr.length < 64 * 1024) stderr += d
    })
    this.child.stdin.on('error', () => {}) // EPIPE when the child died: reported through its exit
    const lines = createInterface({input: this.child.stdout, crlfDelay: Infinity})
    lines.on('line', (line) => this.onLine(line))
    const stdoutDone = new Promise<void>((resolve) => lines.once('close', resolve))
    const spawned = new Promise<{code: number | null; stderr: string}>((resolve) => {
      this.child.once('error', (err) => resolve({code: -1, stderr: err.message}))
      this.child.once('close', (code) => resolve({code, stderr}))
    })
    this.exited = Promise.all([spawned, stdoutDone]).then(([r]) => r)
    void this.exited.then((r) => this.onExit(r.code, r.stderr))
    this.send({stream: true, canChown: mapping.full, concurrency})
  }

  /** Starts the child now. */
  static start(store: StoreLayout, opts: UnpackSessionOptions = {}): UnpackSession {
    ensureDir(store.layers)
    return new UnpackSession(store, currentMapping(), opts.onEvent ?? (() => {}), opts.concurrency ?? 3)
  }

  /**
   * Unpacks one layer whose blob is in the store; resolves once `store.layers/<diffid hex>` is in
   * place (at once when it already is, or when the same diffId is already being unpacked here).
   */
  async unpack(layer: LayerRecord): Promise<void> {
    const hex = hexOf(layer.digest, 'layer digest')
    const final = layerDir(this.store, layer.diffId)
    if (this.failure) throw this.failure
    if (this.ended) throw new Error('UnpackSession: unpack() after finish()')
    const same = this.pending.get(layer.diffId)
    if (same) return new Promise((resolve, reject) => this.chain(same, resolve, reject))
    if (this.queued.has(layer.diffId) || existsSync(final)) return
    const blob = join(this.store.blobs, hex)
    if (!existsSync(blob)) throw new NotFoundError(`layer blob ${layer.digest} is not in the store: pull the image again`)
    // .tmp-<pid>-: gc and `system check --store` know a killed pull's directory by its dead owner
    const dest = await mkdtemp(join(this.store.layers, `.tmp-${process.pid}-`))
    this.temps.add(dest)
    if (this.failure) throw this.failure
    if (!this.mapping.full && !this.warned) {
      this.warned = true
      this.onEvent({type: 'warning', digest: layer.digest, message: 'no /etc/subuid range for this user: file owners from the image are not kept'})
    }
    return new Promise<void>((resolve, reject) => {
      this.pending.set(layer.diffId, {layer, dest, resolve, reject})
      this.send({blob, mediaType: layer.mediaType, diffId: layer.diffId, dest, digest: layer.digest})
    })
  }

  /** No more layers: waits for those in flight and for the child to exit; throws the first failure. */
  async finish(): Promise<void> {
    if (!this.ended) {
      this.ended = true
      this.send({end: true})
      this.child.stdin.end()
    }
    await this.exited
    await this.settle()
    if (this.failure) throw this.failure
  }

  /** Stops the child (if still running) and removes every temporary directory. Never throws. */
  async abort(): Promise<void> {
    this.ended = true
    this.fail(new RuntimeError('unpacking aborted'))
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL')
    this.child.stdin.destroy()
    await this.exited
    await this.settle()
  }

  private chain(p: Pending, resolve: () => void, reject: (err: Error) => void): void {
    const {resolve: r0, reject: j0} = p
    p.resolve = () => (r0(), resolve())
    p.reject = (err) => (j0(err), reject(err))
  }

  private send(value: unknown): void {
    if (this.child.stdin.writable) this.child.stdin.write(`${JSON.stringify(value)}\n`)
  }

  private onLine(line: string): void {
    let event: UnpackEvent
    try {
      event = JSON.parse(line) as UnpackEvent
    } catch {
      return
    }
    if (event.type === 'error') {
      const Cls = event.kind === 'IntegrityError' ? IntegrityError : LayerError
      this.fail(new Cls(event.message))
    } else if (event.type === 'warning') this.onEvent({type: 'warning', digest: event.digest, message: event.message})
    else if (event.type === 'unpacking') this.onEvent({type: 'unpacking', digest: event.digest})
    else if (event.type === 'unpacked') {
      const renaming = this.done(event.digest, event.diffId).finally(() => this.renames.delete(renaming))
      this.renames.add(renaming)
    }
  }

  /** The child says a layer is complete with this diffId: check it, rename it into place. */
  private async done(digest: string, diffId: string): Promise<void> {
    const p = this.pending.get(diffId)
    if (!p || p.layer.digest !== digest) {
      this.fail(new IntegrityError(`layer ${shortDigest(digest)} was not unpacked and verified`))
      return
    }
    this.pending.delete(diffId)
    this.queued.add(diffId)
    try {
      await writeLayerMarker(this.store, diffId, digest)
      await rename(p.dest, layerDir(this.store, diffId))
      this.temps.delete(p.dest)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') {
        p.reject(err as Error)
        this.fail(err as Error)
        return
      }
      // another ctr-ts unpacked the same layer first: keep theirs, ours is removed at the end
    }
    this.onEvent({type: 'unpacked', digest})
    p.resolve()
  }

  private onExit(code: number | null, stderr: string): void {
    if (code !== 0 && !this.failure) {
      this.fail(new RuntimeError(`unpacking layers failed: ${lastLine(stderr) || `exit code ${code}`}`))
    }
    for (const p of this.pending.values()) {
      this.fail(new IntegrityError(`layer ${shortDigest(p.layer.digest)} was not unpacked and verified`))
    }
  }

  private fail(err: Error): void {
    this.failure ??= err
    for (const p of this.pending.values()) p.reject(this.failure)
    this.pending.clear()
  }

  /** After the child exited: removes the temporary directories left (failed or discarded layers). */
  private async settle(): Promise<void> {
    while (this.renames.size > 0) await Promise.all(this.renames)
    const left = [...this.temps]
    this.temps.clear()
    if (left.length > 0) await removeTree(...left).catch(() => {})
  }
}

/**
 * Makes sure every layer has its unpacked directory `store.layers/<diffid hex>`: missing ones are
 * unpacked from their blobs (`store.blobs/<hex>`) by one UnpackSession. On failure nothing
 * half-unpacked is left and the error is rethrown.
 */
export async function ensureLayersUnpacked(
  store: StoreLayout,
  layers: LayerRecord[],
  opts: {onEvent?: (e: LayerEvent) => void} = {},
): Promise<void> {
  const missing = new Map<string, LayerRecord>()
  for (const layer of layers) {
    hexOf(layer.digest, 'layer digest')
    if (!existsSync(layerDir(store, layer.diffId))) missing.set(layer.diffId, layer)
  }
  if (missing.size === 0) return
  ensureDir(store.layers)
  for (const layer of missing.values()) {
    if (!existsSync(join(store.blobs, hexOf(layer.digest, 'layer digest')))) {
      throw new NotFoundError(`layer blob ${layer.digest} is not in the store: pull the image again`)
    }
  }
  const session = UnpackSession.start(store, opts)
  try {
    await Promise.all([...missing.values()].map((l) => session.unpack(l)))
    await session.finish()
  } catch (err) {
    await session.abort()
    throw err
  }
}
