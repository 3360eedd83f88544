import {spawn, type ChildProcessWithoutNullStreams} from 'node:child_process'
import {existsSync} from 'node:fs'
import module from 'node:module'
import {join} from 'node:path'
import {createInterface} from 'node:readline'
import {fileURLToPath} from 'node:url'
import {IntegrityError, LayerError, NotFoundError, RuntimeError} from '../errors.js'
import type {LayerRecord} from '../oci/types.js'
import {parseDigest} from '../oci/digest.js'
import type {StoreLayout} from '../paths.js'
import {blobPath} from '../store/content.js'
import {commitLayer, createLayerTemp, hasLayer} from '../store/layers.js'
import {lastLine, userNsArgv} from '../userns/exec.js'
import {packageRoot} from '../userns/helpers.js'
import {currentMapping, type UserNsMapping} from '../userns/idmap.js'
import {removeTree} from '../userns/remove.js'
import {trace} from '../trace.js'
import type {UnpackEvent} from './unpack-job.js'
import {shortDigest} from './unpack-job.js'

export interface LayerEvent {
  type: 'unpacking' | 'unpacked' | 'warning'
  /** The layer's (compressed) digest. */
  digest: string
  message?: string
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
  /** Set for a layer unpacked while it downloads (see stream()). */
  stream?: StreamState
}

interface StreamState {
  /** Bytes in the ingest file, and the last count sent to the child. */
  bytes: number
  sentBytes: number
  sent: boolean
  verified: boolean
  cancelled: boolean
  /** Resolves true once committed, false when cancelled. */
  settle: (committed: boolean) => void
}

/** A layer unpacked while its blob downloads (UnpackSession.stream). */
export interface StreamedUnpack {
  /** The ingest file now holds `bytes` bytes. */
  grew(bytes: number): void
  /** The blob is complete, verified and in the store: the layer may be committed once unpacked. */
  verified(): void
  /** The download failed: the unpack is dropped and `done` resolves false. */
  cancel(): void
  /** true once the layer is committed (or already was); false when cancelled (unpack it from the blob then). */
  readonly done: Promise<boolean>
}

/** Bytes between two `grow` lines to the child. */
const GROW_STEP = 128 * 1024

/**
 * ONE unpacking child inside the user namespace (unpack-main.js, a streamed job), started at
 * once so that its start-up overlaps whatever the caller does meanwhile (fetching the manifest,
 * downloading blobs), and fed layers one by one as their blobs land in the store. Each layer is
 * unpacked into a temporary directory of the layer store and committed under its diff id only
 * after the child reported it complete with the expected diffId: nothing half-unpacked is ever visible.
 * If another process renamed the same layer first, ours is discarded. On failure (or abort())
 * the child is stopped and every temporary directory is removed (inside the user namespace: it
 * may hold sub-uid-owned files). If this process is killed, the child sees its input end without
 * the closing line and exits; leftover temporary directories are collected by gc.
 *
 * Durability: blobs are fsynced before their rename (store/content.ts); unpacked files are not
 * (one fsync per file would cost more than the unpack itself). After a crash a layer directory
 * may therefore hold truncated files: it can always be rebuilt from its verified blob
 * (`ctr-ts rmi` + pull). A killed process, unlike a power loss, never leaves one half-written.
 */
export class UnpackSession {
  private readonly child: ChildProcessWithoutNullStreams
  private readonly pending = new Map<string, Pending>()
  private readonly inflight = new Map<string, Promise<void>>()
  private readonly temps = new Set<string>()
  private readonly queued = new Set<string>()
  private readonly renames = new Set<Promise<void>>()
  private readonly exited: Promise<{code: number | null; stderr: string}>
  private failure: Error | undefined
  private warned = false
  private ended = false
  private spawnedAt = 0

  private constructor(
    private readonly store: StoreLayout,
    private readonly mapping: UserNsMapping,
    private readonly onEvent: (e: LayerEvent) => void,
    concurrency: number,
  ) {
    const {file, args} = userNsArgv(mapping, [process.execPath, unpackMainPath()])
    this.spawnedAt = performance.now()
    // The CLI's compile cache (a per-user directory: see bin/run.js) serves the child too.
    const cacheDir = module.getCompileCacheDir?.()
    this.child = spawn(file, args, {stdio: ['pipe', 'pipe', 'pipe'], env: cacheDir ? {...process.env, NODE_COMPILE_CACHE: cacheDir} : process.env})
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
    return new UnpackSession(store, currentMapping(), opts.onEvent ?? (() => {}), opts.concurrency ?? 3)
  }

  /**
   * Unpacks one layer whose blob is in the store; resolves once the layer is committed in the
   * layer store (at once when it already is, or when the same diffId is already being unpacked here).
   */
  unpack(layer: LayerRecord): Promise<void> {
    // Marked in flight before anything is awaited: a second call for the same diff id, even at
    // once, waits for the first instead of unpacking it again.
    const inflight = this.inflight.get(layer.diffId)
    if (inflight) return inflight
    const p = this.start(layer)
    this.inflight.set(layer.diffId, p)
    p.then(
      () => this.inflight.delete(layer.diffId),
      () => this.inflight.delete(layer.diffId),
    )
    return p
  }

  private async start(layer: LayerRecord): Promise<void> {
    parseDigest(layer.digest, 'layer digest')
    parseDigest(layer.diffId, 'diff id')
    if (this.failure) throw this.failure
    if (this.ended) throw new Error('UnpackSession: unpack() after finish()')
    if (this.queued.has(layer.diffId) || hasLayer(this.store, layer.diffId)) return
    const blob = blobPath(this.store, layer.digest)
    if (!existsSync(blob)) throw new NotFoundError(`layer blob ${layer.digest} is not in the store: pull the image again`)
    const dest = await createLayerTemp(this.store)
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

  /**
   * Unpacks one layer while its blob downloads into `ingest` (an ingest file of the content
   * store): the child reads the file as it grows, as far as `grew` says, and the layer is
   * committed only once the child verified its diffId AND `verified()` said the blob's digest
   * is right. Until both, it stays in its temporary directory (path-safe like any unpack).
   */
  stream(layer: LayerRecord, ingest: string): StreamedUnpack {
    let settle: (committed: boolean) => void = () => {}
    let reject: (err: unknown) => void = () => {}
    const done = new Promise<boolean>((resolve, rej) => {
      settle = resolve
      reject = rej
    })
    const state: StreamState = {bytes: 0, sentBytes: 0, sent: false, verified: false, cancelled: false, settle}
    const handle: StreamedUnpack = {
      done,
      grew: (bytes) => {
        state.bytes = bytes
        if (state.sent && !state.cancelled && bytes - state.sentBytes >= GROW_STEP) {
          state.sentBytes = bytes
          this.send({grow: layer.digest, bytes})
        }
      },
      verified: () => {
        state.verified = true
        if (state.sent && !state.cancelled) this.send({complete: layer.digest, size: layer.size})
      },
      cancel: () => {
        if (state.cancelled) return
        state.cancelled = true
        if (state.sent) this.send({cancel: layer.digest})
        else settle(false)
      },
    }
    const begin = async (): Promise<void> => {
      parseDigest(layer.digest, 'layer digest')
      parseDigest(layer.diffId, 'diff id')
      if (this.failure) throw this.failure
      if (this.ended) throw new Error('UnpackSession: stream() after finish()')
      if (this.queued.has(layer.diffId) || this.pending.has(layer.diffId) || hasLayer(this.store, layer.diffId)) {
        settle(true)
        return
      }
      const dest = await createLayerTemp(this.store)
      this.temps.add(dest)
      if (this.failure) throw this.failure
      if (state.cancelled) return settle(false)
      await new Promise<void>((resolve, reject) => {
        this.pending.set(layer.diffId, {layer, dest, resolve, reject, stream: state})
        state.sent = true
        state.sentBytes = state.bytes
        this.send({blob: blobPath(this.store, layer.digest), ingest, mediaType: layer.mediaType, diffId: layer.diffId, dest, digest: layer.digest})
        if (state.bytes > 0) this.send({grow: layer.digest, bytes: state.bytes})
        if (state.verified) this.send({complete: layer.digest, size: layer.size})
      })
      settle(true)
    }
    begin().catch(reject) // the caller awaits `done`
    return handle
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
    else if (event.type === 'ready') trace.record('pull: unpacker start-up (user namespace + node)', this.spawnedAt, performance.now())
    else if (event.type === 'unpacking') this.onEvent({type: 'unpacking', digest: event.digest})
    else if (event.type === 'cancelled') {
      for (const [diffId, p] of this.pending) {
        if (p.layer.digest !== event.digest || !p.stream?.cancelled) continue
        this.pending.delete(diffId) // its temporary directory is removed at the end
        p.stream.settle(false)
        p.resolve()
      }
    }
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
    if (p.stream && (!p.stream.verified || p.stream.cancelled)) {
      this.fail(new IntegrityError(`layer ${shortDigest(digest)} was unpacked before its blob was verified`))
      return
    }
    this.pending.delete(diffId)
    this.queued.add(diffId)
    try {
      // false: another ctr-ts unpacked the same layer first; theirs is kept, ours removed at the end
      if (await commitLayer(this.store, p.dest, diffId, digest)) this.temps.delete(p.dest)
    } catch (err) {
      p.reject(err as Error)
      this.fail(err as Error)
      return
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
