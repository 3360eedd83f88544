import {createHash} from 'node:crypto'
import {
  chmodSync,
  closeSync,
  constants as fsc,
  fchmodSync,
  fchownSync,
  futimesSync,
  lchownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  openSync,
  rmSync,
  symlinkSync,
  writeSync,
} from 'node:fs'
import {execFileSync} from 'node:child_process'
import type {Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {extract as tarExtract, type Header} from 'tar-stream'
import {CtrError, IntegrityError, LayerError} from '../errors.js'
import {decompressStreams, isDecompressionError} from './decompress.js'
import {LayerRoot, MAX_NAME_BYTES, UnsafePathError, normalizeEntryPath, quote} from './safe-path.js'
import {TarEndOfArchive} from './tar-end.js'
import {OPAQUE_MARKER, parseWhiteout, whiteoutName} from './whiteout.js'
import {parseXattrs, restoreXattrs, type Xattr} from './xattrs.js'
import {type ExactTime, parsePaxTime, setExactTimes} from './exact-times.js'

/** Bounds that hold whatever a layer's headers claim. */
export interface LayerLimits {
  /** Uncompressed bytes per layer (tar headers included): bounds disk writes and bombs. */
  maxBytes: number
  /** Entries per layer. */
  maxEntries: number
}

export const DEFAULT_MAX_LAYER_BYTES = 64 * 1024 ** 3
export const DEFAULT_MAX_LAYER_ENTRIES = 2_000_000

function positiveInt(text: string | undefined): number | undefined {
  if (!text || !/^\d+$/.test(text.trim())) return undefined
  const n = Number(text.trim())
  return Number.isSafeInteger(n) && n > 0 ? n : undefined
}

/** Limits from the environment: CTR_TS_MAX_LAYER_BYTES and CTR_TS_MAX_LAYER_ENTRIES. */
export function layerLimits(env: NodeJS.ProcessEnv = process.env): LayerLimits {
  return {
    maxBytes: positiveInt(env.CTR_TS_MAX_LAYER_BYTES) ?? DEFAULT_MAX_LAYER_BYTES,
    maxEntries: positiveInt(env.CTR_TS_MAX_LAYER_ENTRIES) ?? DEFAULT_MAX_LAYER_ENTRIES,
  }
}

export interface UnpackOptions {
  /** How the layer is named in messages (its digest, usually). */
  layerName: string
  /** Expected digest of the uncompressed tar; a mismatch is an IntegrityError. */
  diffId?: string
  /** Media type of `input`: decides decompression (default: uncompressed tar). */
  mediaType?: string
  /** Whether to chown entries to their header uid/gid (inside the user namespace). */
  canChown: boolean
  onWarning(message: string): void
  /** Overrides layerLimits(process.env). */
  limits?: Partial<LayerLimits>
  /**
   * Who applies the entries to `dest` (default: this thread, see Unpacker). unpack-main.ts hands
   * them to a worker thread (unpack-thread.ts), so file system calls overlap with parsing.
   */
  applier?: (dest: string, opts: UnpackOptions, limits: LayerLimits) => EntryApplier
}

/** Applies parsed entries to the layer directory, in order (see Unpacker). */
export interface EntryApplier {
  /** Applies one entry; for a regular file, returns where its data goes. */
  entry(header: Header, rawXattrs?: Map<string, Buffer>): FileSink | undefined
  /** When the applier is behind: a promise to wait for before the next entry. */
  ready?(): Promise<void> | undefined
  /** After the last entry: directory modes and times, exact times, xattrs; resolves to the entry count. */
  finish(): Promise<number>
  /** Stops after a failure (the caller discards the layer). */
  abort(): void
}

/** Where a regular file's data goes, chunk by chunk, then `end()` (owner, mode, times, close). */
export interface FileSink {
  write(chunk: Buffer): void
  end(): void
}

const entryOfError = new WeakMap<object, string>()

/** Marks `err` as an entry's failure (an applier elsewhere reports it later than the entry). */
export function errorAtEntry<E extends object>(err: E, entry: string): E {
  entryOfError.set(err, entry)
  return err
}

/** Applies entries in this thread. */
export function localApplier(dest: string, opts: UnpackOptions, limits: LayerLimits): EntryApplier {
  return new Unpacker(dest, opts, limits)
}

export interface UnpackResult {
  /** sha256 of the uncompressed tar stream: `sha256:<hex>`. */
  diffId: string
  entries: number
  /** Uncompressed bytes. */
  bytes: number
}

/**
 * Unpacks one layer blob from `input` into the existing empty directory `dest`, refusing anything
 * that would write outside it (see safe-path.ts), keeping whiteouts as `.wh.` files (see
 * whiteout.ts), and returning the digest of the uncompressed stream. Memory stays bounded: file
 * data is streamed to disk, tar-stream caps PAX / GNU long headers at 4 MiB, names are capped at
 * 4096 bytes, entries and uncompressed bytes by `LayerLimits`.
 *
 * On failure `dest` is left as is (possibly half-filled): the caller discards it.
 */
export async function unpackLayer(input: Readable, dest: string, opts: UnpackOptions): Promise<UnpackResult> {
  const limits = {...layerLimits(), ...opts.limits}
  const hash = createHash('sha256')
  let bytes = 0
  // The guard hashes and counts the whole uncompressed blob as it comes (the diff_id covers
  // trailing data too, as for containerd), and keeps entries after the end marker from tar-stream.
  const endGuard = new TarEndOfArchive(opts.layerName, (chunk) => {
    bytes += chunk.length
    if (bytes > limits.maxBytes) {
      throw new LayerError(`layer ${opts.layerName}: uncompressed size exceeds the limit of ${limits.maxBytes} bytes (CTR_TS_MAX_LAYER_BYTES)`)
    }
    hash.update(chunk)
  })
  const extract = tarExtract()
  const unpacker = (opts.applier ?? localApplier)(dest, opts, limits)
  const piping = pipeline([input, ...decompressStreams(opts.mediaType ?? 'application/vnd.oci.image.layer.v1.tar', opts.layerName), endGuard, extract] as unknown as ReadonlyArray<NodeJS.ReadWriteStream>)
  piping.catch(() => {}) // awaited below; this only prevents an unhandled rejection if the loop fails first

  let current: string | undefined
  let index = 0
  let entries = 0
  // Entries are handled in tar-stream's 'entry' callback, synchronously (no promise per entry or
  // per chunk): the header's work is done at once, a file's chunks are written as they come, and
  // `next()` asks for the following entry. The first failure stops the tar stream.
  let failure: {err: unknown; entry: string | undefined} | undefined
  let open = 0
  let allDone: (() => void) | undefined
  const stop = (err: unknown): void => {
    failure ??= {err, entry: current}
    extract.destroy(err instanceof Error ? err : new Error(String(err)))
    allDone?.() // a wait for the last entry ends with the failure
  }
  extract.on('entry', (header, stream, next) => {
    if (failure) return
    current = header.name
    open++
    stream.on('error', () => {}) // the tar stream's own error is the one reported
    const done = (): void => {
      open--
      current = undefined
      if (open === 0 && allDone) allDone()
      const wait = unpacker.ready?.()
      if (wait) wait.then(() => next(), stop)
      else next()
    }
    try {
      // The guard and tar-stream must agree on where every entry starts, or the guard's view of
      // the archive (and so of its end) is not the one extracted.
      if (stream.offset !== endGuard.entryOffsets[index++]) {
        throw new LayerError(`layer ${opts.layerName}: corrupt tar: inconsistent headers at offset ${stream.offset}`)
      }
      const sink = unpacker.entry(header, endGuard.takeRawXattrs(index - 1))
      if (sink) {
        stream.on('data', (chunk: unknown) => {
          if (failure) return
          try {
            sink.write(chunk as Buffer)
          } catch (err) {
            stop(err)
          }
        })
        stream.on('end', () => {
          if (failure) return
          try {
            sink.end()
          } catch (err) {
            return stop(err)
          }
          done()
        })
      } else {
        stream.on('end', () => {
          if (!failure) done()
        })
        stream.resume()
      }
    } catch (err) {
      stop(err)
    }
  })
  try {
    try {
      await piping
    } catch (err) {
      if (!failure) throw err
    }
    if (failure) throw failure.err
    // the last entry's end may come after the tar stream finished
    if (open > 0) await new Promise<void>((resolve) => (allDone = resolve))
    if (failure) throw (failure as {err: unknown}).err
    if (index !== endGuard.entryOffsets.length) {
      throw new LayerError(`layer ${opts.layerName}: corrupt tar: inconsistent headers (${endGuard.entryOffsets.length} entries found, ${index} read)`)
    }
    entries = await unpacker.finish()
  } catch (err) {
    input.destroy()
    extract.destroy()
    unpacker.abort()
    // An entry's data stream fails with a bare "Stream was destroyed" when the tar or the
    // decompression failed underneath: report the pipeline's own error then.
    const pipeErr = await piping.then(
      () => undefined,
      (e: unknown) => e,
    )
    const ours = err instanceof CtrError || err instanceof UnsafePathError || (failure !== undefined && err === failure.err)
    const useful = pipeErr instanceof Error && (pipeErr as NodeJS.ErrnoException).code !== 'ERR_STREAM_PREMATURE_CLOSE'
    if (!ours && useful) throw classify(pipeErr, opts.layerName, undefined)
    const at = typeof err === 'object' && err !== null ? entryOfError.get(err) : undefined
    throw classify(err, opts.layerName, at ?? (failure && err === failure.err ? failure.entry : current))
  }

  if (endGuard.trailingData) {
    opts.onWarning(`layer ${opts.layerName}: ignored ${endGuard.trailingBytes} bytes after the tar end-of-archive marker`)
  }
  const diffId = `sha256:${hash.digest('hex')}`
  if (opts.diffId && opts.diffId !== diffId) {
    throw new IntegrityError(`layer ${opts.layerName}: uncompressed content has digest ${diffId}, expected diff_id ${opts.diffId}`)
  }
  return {diffId, entries, bytes}
}

/** One clear LayerError for whatever went wrong, naming the layer and the entry. */
function classify(err: unknown, layerName: string, entry: string | undefined): Error {
  if (err instanceof CtrError) return err
  const message = err instanceof Error ? err.message : String(err)
  if (isDecompressionError(err)) return new LayerError(`layer ${layerName}: corrupt compressed data: ${message}`, {cause: err})
  const at = entry === undefined ? '' : ` entry ${quote(entry)}:`
  if (err instanceof UnsafePathError) return new LayerError(`layer ${layerName}:${at} ${message}`, {cause: err})
  if (entry === undefined) {
    if ((err as NodeJS.ErrnoException).syscall) return new LayerError(`layer ${layerName}: ${message}`, {cause: err})
    if (message === 'Header exceeds max size') return new LayerError(`layer ${layerName}: a PAX or GNU long-name header exceeds 4 MiB`, {cause: err})
    return new LayerError(`layer ${layerName}: corrupt tar: ${message}`, {cause: err})
  }
  return new LayerError(`layer ${layerName}:${at} ${message}`, {cause: err})
}

interface DirMeta {
  mode: number
  mtime?: Date
}

type Pax = Record<string, string>

/** Bounds the xattrs held in memory until the end of a layer. */
const MAX_XATTR_BYTES = 16 * 1024 * 1024

const CREATE_FLAGS = fsc.O_WRONLY | fsc.O_CREAT | fsc.O_EXCL | fsc.O_NOFOLLOW

function writeAll(fd: number, chunk: Buffer): void {
  let off = 0
  while (off < chunk.length) off += writeSync(fd, chunk, off, chunk.length - off)
}

function validId(id: number): boolean {
  return Number.isInteger(id) && id >= 0 && id < 0xffffffff
}

function paxInt(pax: Pax | undefined, key: string, fallback: number): number {
  const v = pax?.[key]
  if (v === undefined || !/^\d+$/.test(v)) return fallback
  return Number(v)
}

function paxTime(pax: Pax | undefined, fallback: Date): Date {
  const v = pax?.mtime
  if (v === undefined || !/^-?\d+(\.\d+)?$/.test(v)) return fallback
  return new Date(Number(v) * 1000)
}

/** Applies tar entries to the layer directory, one at a time, in order. */
export class Unpacker implements EntryApplier {
  entries = 0
  private readonly root: LayerRoot
  /** Directories whose mode and mtime are set at the end (adding entries changes them). */
  private readonly dirs = new Map<string, DirMeta>([['', {mode: 0o755}]])
  /** `.wh.NAME` files written in this layer (relative paths). */
  private readonly whiteouts = new Set<string>()
  private readonly warned = new Set<string>()
  private readonly skippedDevices: string[] = []
  /** user.* extended attributes to set at the end, by relative path (see xattrs.ts). */
  private readonly xattrs = new Map<string, Xattr[]>()
  /** Entries whose PAX mtime has nanoseconds Node's utimes cannot set (see exact-times.ts). */
  private readonly exactTimes = new Map<string, ExactTime>()
  private readonly xattrSkipped = new Set<string>()
  private xattrBytes = 0
  /** The regular file whose data is being written. */
  private openFd: number | undefined

  /** Whether the layer directory is setgid (then every entry is chowned: see needsChown). */
  private readonly rootSetgid: boolean
  /** The process's umask: a file whose mode it would change gets an fchmod. */
  private readonly umask: number

  constructor(
    dest: string,
    private readonly opts: UnpackOptions,
    private readonly limits: LayerLimits,
  ) {
    this.root = new LayerRoot(dest)
    this.rootSetgid = (lstatSync(dest).mode & 0o2000) !== 0
    this.umask = process.umask()
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return
    this.warned.add(key)
    this.opts.onWarning(message)
  }

  /**
   * Applies one entry from its header; for a regular file, returns where its data goes (the other
   * types have none worth keeping: their data, if any, is read and discarded by the caller).
   * `rawXattrs`: the entry's SCHILY.xattr values as the bytes of the archive (tar-stream decodes
   * them as UTF-8).
   */
  entry(header: Header, rawXattrs?: Map<string, Buffer>): FileSink | undefined {
    if (++this.entries > this.limits.maxEntries) {
      throw new LayerError(`layer ${this.opts.layerName}: more than ${this.limits.maxEntries} entries (CTR_TS_MAX_LAYER_ENTRIES)`)
    }
    const pax = (header.pax ?? undefined) as Pax | undefined
    const parts = normalizeEntryPath(header.name)
    const base = parts.at(-1)
    if (pax && Object.keys(pax).some((k) => k.startsWith('GNU.sparse.'))) {
      // the data is a sparse map plus fragments: writing it as-is would give a wrong file
      throw new UnsafePathError('GNU sparse files are not supported')
    }

    // Whiteouts are recognized by name whatever their type; char-device 0/0 is the overlay form.
    const rule = base === undefined ? undefined : parseWhiteout(base)
    if (rule) {
      if (rule.kind === 'invalid') throw new UnsafePathError(rule.reason)
      if (rule.kind === 'meta') return
      if (rule.kind === 'opaque') return void this.opaque(parts.slice(0, -1))
      return void this.whiteout(parts.slice(0, -1), rule.target)
    }
    if (header.type === 'character-device' && header.devmajor === 0 && header.devminor === 0 && base !== undefined) {
      return void this.whiteout(parts.slice(0, -1), base)
    }

    const owner = {uid: paxInt(pax, 'uid', header.uid), gid: paxInt(pax, 'gid', header.gid)}
    const mode = header.mode & 0o7777
    const mtime = paxTime(pax, header.mtime)
    // a PAX mtime with a fraction is set again to the nanosecond at the end
    const exact = pax?.mtime !== undefined ? parsePaxTime(pax.mtime) : undefined
    const keepExact = (): undefined => {
      if (exact) this.exactTimes.set(parts.join('/'), exact)
      return undefined
    }

    switch (header.type) {
      case 'directory':
        this.directory(parts, mode, mtime, owner)
        if (pax) this.collectXattrs(parts, pax, rawXattrs)
        return keepExact()
      case 'file':
      case 'contiguous-file': {
        const sink = this.file(parts, mode, mtime, owner)
        return {
          write: sink.write,
          end: () => {
            sink.end()
            if (pax) this.collectXattrs(parts, pax, rawXattrs)
            keepExact()
          },
        }
      }
      case 'symlink':
        this.symlink(parts, header.linkname ?? '', mtime, owner)
        return keepExact()
      case 'link':
        this.hardlink(parts, header.linkname ?? '')
        return undefined
      case 'fifo':
        this.fifo(parts, mode, mtime, owner)
        return keepExact()
      case 'character-device':
      case 'block-device':
        this.skippedDevices.push(parts.join('/'))
        return undefined
      default:
        this.opts.onWarning(`layer ${this.opts.layerName}: entry ${quote(header.name)} of unsupported tar type skipped`)
        return undefined
    }
  }

  /** Closes the file being written, if any (after a failure: the caller discards the layer). */
  abort(): void {
    if (this.openFd === undefined) return
    try {
      closeSync(this.openFd)
    } catch {
      // already failing
    }
    this.openFd = undefined
  }

  /** Sets directory modes and mtimes, deepest first, and reports what was skipped. */
  async finish(): Promise<number> {
    const order = [...this.dirs.entries()].sort((a, b) => depth(b[0]) - depth(a[0]))
    for (const [rel, meta] of order) {
      const fd = openSync(rel === '' ? this.root.root : this.root.abs(rel.split('/')), fsc.O_RDONLY | fsc.O_DIRECTORY | fsc.O_NOFOLLOW)
      try {
        fchmodSync(fd, meta.mode)
        if (meta.mtime) futimesSync(fd, meta.mtime, meta.mtime)
      } finally {
        closeSync(fd)
      }
    }
    const n = this.skippedDevices.length
    if (n > 0) {
      const shown = this.skippedDevices.slice(0, 5).map((p) => `/${p}`).join(', ')
      this.opts.onWarning(`layer ${this.opts.layerName}: skipped ${n} device node${n > 1 ? 's' : ''} (cannot be created rootless): ${shown}${n > 5 ? ', ...' : ''}`)
    }
    if (this.xattrSkipped.size > 0) {
      const shown = [...this.xattrSkipped].slice(0, 3).join(', ')
      this.opts.onWarning(`layer ${this.opts.layerName}: extended attributes not restored: ${shown}${this.xattrSkipped.size > 3 ? ', ...' : ''}`)
    }
    if (this.exactTimes.size > 0) {
      const problem = await setExactTimes(this.root.root, this.exactTimes)
      if (problem) this.opts.onWarning(`layer ${this.opts.layerName}: ${problem}`)
    }
    if (this.xattrs.size > 0) {
      const problem = await restoreXattrs(this.root.root, this.xattrs)
      if (problem) this.opts.onWarning(`layer ${this.opts.layerName}: ${problem}`)
    }
    return this.entries
  }

  /**
   * Remembers the user.* xattrs of a regular file or directory just written (the only types that
   * can have them; on others tar writers do not record any).
   */
  private collectXattrs(parts: string[], pax: Pax, raw?: Map<string, Buffer>): void {
    const {keep, skipped} = parseXattrs(pax, raw)
    for (const s of skipped) if (this.xattrSkipped.size < 50) this.xattrSkipped.add(`${s.name} (${s.why})`)
    if (keep.length === 0) return
    const bytes = keep.reduce((n, a) => n + a.name.length + a.value.length, 0)
    this.xattrBytes += bytes
    if (this.xattrBytes > MAX_XATTR_BYTES) {
      this.xattrSkipped.add(`more than ${MAX_XATTR_BYTES / 1024 / 1024} MiB of them in this layer`)
      return
    }
    this.xattrs.set(parts.join('/'), keep)
  }

  /**
   * Creates a new non-directory entry at `parts`: parents checked/created, then `create()`, which
   * must fail with EEXIST when something is already there (O_CREAT|O_EXCL, symlink(2), link(2),
   * mkfifo: none of them follows a symlink in the last component); then whatever is there is
   * removed and `create()` runs again. Trying first saves an lstat per entry: into a fresh layer
   * directory, nearly every entry is new.
   */
  private createFresh<T>(parts: string[], create: () => T): T {
    this.root.ensureParents(parts)
    try {
      return create()
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    this.remove(parts)
    return create()
  }

  private remove(parts: string[]): void {
    const rel = parts.join('/')
    rmSync(this.root.abs(parts), {recursive: true, force: true})
    this.root.forget(rel)
    const prefix = `${rel}/`
    for (const d of this.dirs.keys()) if (d === rel || d.startsWith(prefix)) this.dirs.delete(d)
    for (const x of this.xattrs.keys()) if (x === rel || x.startsWith(prefix)) this.xattrs.delete(x)
    for (const x of this.exactTimes.keys()) if (x === rel || x.startsWith(prefix)) this.exactTimes.delete(x)
  }

  /** A new entry at `parts` replaces a whiteout of the same name written earlier in this layer. */
  private replacesWhiteout(parts: string[], isDir: boolean): void {
    if (this.whiteouts.size === 0) return
    const wh = [...parts.slice(0, -1), whiteoutName(parts.at(-1)!)]
    const rel = wh.join('/')
    if (!this.whiteouts.delete(rel)) return
    rmSync(this.root.abs(wh), {force: true})
    if (isDir) this.writeMarker([...parts, OPAQUE_MARKER])
  }

  private writeMarker(parts: string[]): void {
    const abs = this.root.abs(parts)
    closeSync(this.createFresh(parts, () => openSync(abs, CREATE_FLAGS, 0o600)))
  }

  private whiteout(dir: string[], target: string): void {
    // The whiteout also deletes what this layer wrote there earlier (docker applies it in order).
    this.root.ensureParents([...dir, target])
    this.remove([...dir, target])
    const wh = [...dir, whiteoutName(target)]
    this.writeMarker(wh)
    this.whiteouts.add(wh.join('/'))
  }

  private opaque(dir: string[]): void {
    if (dir.length > 0) {
      this.root.ensureParents([...dir, OPAQUE_MARKER])
    }
    this.writeMarker([...dir, OPAQUE_MARKER])
  }

  /**
   * Whether an entry just created needs a chown to get `owner`: not for 0:0, which is what we
   * create as (root of the user namespace; no directory is setgid while the layer is written:
   * they are created 0700 and get their modes at the end), unless the layer directory itself is
   * setgid (its new entries would take its group).
   */
  private needsChown(owner: {uid: number; gid: number}): boolean {
    return this.opts.canChown && (owner.uid !== 0 || owner.gid !== 0 || this.rootSetgid)
  }

  /** chown of `path` (lchown), or of the open file `fd`. */
  private chown(path: string, owner: {uid: number; gid: number}, fd?: number): void {
    if (!this.needsChown(owner)) return
    const {uid, gid} = owner
    if (!validId(uid) || !validId(gid)) {
      this.warnOnce('id', `layer ${this.opts.layerName}: invalid owner ${uid}:${gid} kept as root`)
      return
    }
    try {
      if (fd === undefined) lchownSync(path, uid, gid)
      else fchownSync(fd, uid, gid)
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code !== 'EPERM' && code !== 'EINVAL') throw err
      this.warnOnce('chown', `layer ${this.opts.layerName}: cannot keep owner ${uid}:${gid} (not mapped in the user namespace): such files belong to root`)
    }
  }

  private directory(parts: string[], mode: number, mtime: Date, owner: {uid: number; gid: number}): void {
    const rel = parts.join('/')
    const abs = this.root.abs(parts)
    if (parts.length > 0) {
      this.root.ensureParents(parts)
      try {
        mkdirSync(abs, {mode: 0o700})
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        // a directory over a directory merges; anything else there is replaced
        if (!lstatSync(abs).isDirectory()) {
          this.remove(parts)
          mkdirSync(abs, {mode: 0o700})
        }
      }
      this.root.markDir(rel)
    }
    this.chown(abs, owner)
    this.dirs.set(rel, {mode, mtime})
    if (parts.length > 0) this.replacesWhiteout(parts, true)
  }

  private file(parts: string[], mode: number, mtime: Date, owner: {uid: number; gid: number}): FileSink {
    if (parts.length === 0) throw new UnsafePathError('a non-directory entry for the layer root')
    const abs = this.root.abs(parts)
    // Created with its permission bits (the umask permitting); the file is private to the layer
    // directory until the layer is committed.
    const fd = this.createFresh(parts, () => openSync(abs, CREATE_FLAGS, mode & 0o777))
    this.openFd = fd
    return {
      write: (chunk) => writeAll(fd, chunk),
      end: () => {
        this.openFd = undefined
        try {
          if (this.needsChown(owner)) this.chown(abs, owner, fd) // before chmod: chown clears setuid/setgid
          if ((mode & 0o7000) !== 0 || (mode & this.umask) !== 0) fchmodSync(fd, mode)
          futimesSync(fd, mtime, mtime)
        } finally {
          closeSync(fd)
        }
        this.replacesWhiteout(parts, false)
      },
    }
  }

  private symlink(parts: string[], target: string, mtime: Date, owner: {uid: number; gid: number}): void {
    if (parts.length === 0) throw new UnsafePathError('a non-directory entry for the layer root')
    if (target === '') throw new UnsafePathError('symlink with an empty target')
    if (Buffer.byteLength(target) > MAX_NAME_BYTES) throw new UnsafePathError(`symlink target is longer than ${MAX_NAME_BYTES} bytes`)
    if (target.includes('\0')) throw new UnsafePathError('symlink target contains a NUL byte')
    const abs = this.root.abs(parts)
    this.createFresh(parts, () => symlinkSync(target, abs)) // stored as-is: resolved in the container's root, never by us
    this.chown(abs, owner)
    lutimesSync(abs, mtime, mtime)
    this.replacesWhiteout(parts, false)
  }

  private hardlink(parts: string[], linkname: string): void {
    if (parts.length === 0) throw new UnsafePathError('a non-directory entry for the layer root')
    const target = normalizeEntryPath(linkname, 'hardlink target')
    if (target.length === 0) throw new UnsafePathError('hardlink to the layer root')
    if (target.join('/') === parts.join('/')) return // a link to itself: nothing to do
    this.root.ensureParents(target, false)
    const targetAbs = this.root.abs(target)
    let st
    try {
      st = lstatSync(targetAbs)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      throw new UnsafePathError(`hardlink target ${quote(linkname)} is not an earlier entry of this layer`)
    }
    if (st.isDirectory()) throw new UnsafePathError(`hardlink target ${quote(linkname)} is a directory`)
    const abs = this.root.abs(parts)
    this.createFresh(parts, () => linkSync(targetAbs, abs)) // link(2) does not follow a symlink target
    this.replacesWhiteout(parts, false)
  }

  private fifo(parts: string[], mode: number, mtime: Date, owner: {uid: number; gid: number}): void {
    if (parts.length === 0) throw new UnsafePathError('a non-directory entry for the layer root')
    const abs = this.root.abs(parts)
    this.root.ensureParents(parts)
    if (lstatSync(abs, {throwIfNoEntry: false})) this.remove(parts) // rare: checked first
    execFileSync('mkfifo', ['-m', '600', '--', abs], {stdio: 'ignore'}) // Node has no mkfifo(); coreutils does
    const st = lstatSync(abs)
    if (!st.isFIFO()) throw new UnsafePathError('mkfifo did not create a fifo')
    this.chown(abs, owner)
    chmodSync(abs, mode)
    lutimesSync(abs, mtime, mtime)
    this.replacesWhiteout(parts, false)
  }
}

function depth(rel: string): number {
  return rel === '' ? -1 : rel.split('/').length
}
