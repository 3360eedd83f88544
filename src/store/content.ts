import {createHash, randomBytes, type Hash} from 'node:crypto'
import {constants, createReadStream} from 'node:fs'
import {Readable} from 'node:stream'
import {open, readdir, readFile, rename, stat, unlink, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {IntegrityError, NotFoundError} from '../errors.js'
import {digestFromHex, isDigestHex, parseDigest} from '../oci/digest.js'
import {ensureDir, type StoreLayout} from '../paths.js'

/**
 * The content store: verified blobs (manifests, configs, compressed layers) under
 * `blobs/sha256/<hex>`, written through `ingest/` files named here (and only here):
 * `<hex>.<writer pid>.<random>.part`.
 */

export function blobPath(store: StoreLayout, digest: string): string {
  return join(store.blobs, parseDigest(digest).hex)
}

function ingestName(hex: string): string {
  return `${hex}.${process.pid}.${randomBytes(6).toString('hex')}.part`
}

/** The writer's pid of an ingest file name, or undefined for a name not made by ingestName. */
function ingestWriter(name: string): number | undefined {
  const [hex, pid, rand, part, ...rest] = name.split('.')
  if (rest.length > 0 || part !== 'part' || !hex || !isDigestHex(hex) || !/^\d+$/.test(pid ?? '') || !/^[a-f0-9]+$/.test(rand ?? '')) return undefined
  return Number(pid)
}

/** True when the verified blob is in the store (and has `size` bytes, when given). */
export async function hasBlob(store: StoreLayout, digest: string, size?: number): Promise<boolean> {
  try {
    const st = await stat(blobPath(store, digest))
    return st.isFile() && (size === undefined || st.size === size)
  } catch {
    return false
  }
}

/** Reads a whole blob (manifests, configs); refuses blobs over `maxBytes`. */
export async function readBlob(store: StoreLayout, digest: string, maxBytes = 64 * 1024 * 1024): Promise<Buffer> {
  const path = blobPath(store, digest)
  let size: number
  try {
    size = (await stat(path)).size
  } catch {
    throw new NotFoundError(`blob ${digest} not found in the store`)
  }
  if (size > maxBytes) throw new IntegrityError(`blob ${digest} is larger than ${maxBytes} bytes`)
  return readFile(path)
}

/** A blob being written: bytes go to a uniquely named file in ingest/, hashed as they come. */
export class Ingest {
  private received = 0
  private readonly hash: Hash = createHash('sha256')
  private closed = false

  private constructor(
    private readonly store: StoreLayout,
    readonly digest: string,
    readonly expectedSize: number | undefined,
    readonly tempPath: string,
    private readonly fh: FileHandle,
  ) {}

  static async create(store: StoreLayout, digest: string, expectedSize?: number): Promise<Ingest> {
    const {hex} = parseDigest(digest)
    ensureDir(store.ingest)
    ensureDir(store.blobs)
    const tempPath = join(store.ingest, ingestName(hex))
    const fh = await open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
    return new Ingest(store, digest, expectedSize, tempPath, fh)
  }

  get bytes(): number {
    return this.received
  }

  async write(chunk: Buffer): Promise<void> {
    this.received += chunk.length
    if (this.expectedSize !== undefined && this.received > this.expectedSize) {
      throw new IntegrityError(`blob ${this.digest}: more than the ${this.expectedSize} bytes announced`)
    }
    this.hash.update(chunk)
    let off = 0
    while (off < chunk.length) {
      const {bytesWritten} = await this.fh.write(chunk, off, chunk.length - off)
      off += bytesWritten
    }
  }

  /**
   * Verifies size and digest, fsyncs, and renames the file into blobs/: only now does the blob
   * become visible. Renaming over an identical blob written by a concurrent pull is harmless.
   */
  async commit(): Promise<void> {
    try {
      if (this.expectedSize !== undefined && this.received !== this.expectedSize) {
        throw new IntegrityError(`blob ${this.digest}: got ${this.received} bytes, expected ${this.expectedSize}`)
      }
      const actual = `sha256:${this.hash.digest('hex')}`
      if (actual !== this.digest) throw new IntegrityError(`digest mismatch: expected ${this.digest}, got ${actual}`)
      await this.fh.sync()
      await this.fh.close()
      this.closed = true
      await rename(this.tempPath, blobPath(this.store, this.digest))
      await syncDir(this.store.blobs)
    } catch (err) {
      await this.abort()
      throw err
    }
  }

  /** Removes the temporary file; safe to call more than once. */
  async abort(): Promise<void> {
    if (!this.closed) {
      this.closed = true
      await this.fh.close().catch(() => {})
    }
    await unlink(this.tempPath).catch(() => {})
  }
}

async function syncDir(path: string): Promise<void> {
  let fh: FileHandle | undefined
  try {
    fh = await open(path, constants.O_RDONLY | constants.O_DIRECTORY)
    await fh.sync()
  } catch {
    // some filesystems refuse fsync on directories; the rename itself is still atomic
  } finally {
    await fh?.close().catch(() => {})
  }
}

/** Writes bytes already in memory (and already verified by the caller or here) as a blob. */
export async function writeBlob(store: StoreLayout, digest: string, bytes: Buffer): Promise<void> {
  if (await hasBlob(store, digest, bytes.length)) return
  const ingest = await Ingest.create(store, digest, bytes.length)
  try {
    await ingest.write(bytes)
  } catch (err) {
    await ingest.abort()
    throw err
  }
  await ingest.commit()
}

function ownerAlive(name: string): boolean {
  const pid = ingestWriter(name)
  if (pid === undefined) return true
  if (pid === process.pid) return true
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * Deletes ingest files left by killed pulls: those whose writer process is gone, and any older
 * than `maxAgeMs` (in case the pid was reused). Returns how many.
 */
export async function cleanStaleIngest(store: StoreLayout, maxAgeMs = 60 * 60 * 1000): Promise<number> {
  let names: string[]
  try {
    names = await readdir(store.ingest)
  } catch {
    return 0
  }
  const now = Date.now()
  let removed = 0
  for (const name of names) {
    const path = join(store.ingest, name)
    try {
      const st = await stat(path)
      if (now - st.mtimeMs > maxAgeMs || !ownerAlive(name)) {
        await unlink(path)
        removed++
      }
    } catch {
      // raced with its owner or another cleaner
    }
  }
  return removed
}

/** Every blob digest in the store. */
export async function listBlobs(store: StoreLayout): Promise<string[]> {
  try {
    return (await readdir(store.blobs)).filter(isDigestHex).map((n) => digestFromHex(n).value)
  } catch {
    return []
  }
}

/** Deletes a blob; returns its size, or undefined when it was already gone. */
export async function removeBlob(store: StoreLayout, digest: string): Promise<number | undefined> {
  const path = blobPath(store, digest)
  try {
    const {size} = await stat(path)
    await unlink(path)
    return size
  } catch {
    return undefined
  }
}

/** Streams the bytes [start, end) of a blob in the store. */
export function openBlob(store: StoreLayout, digest: string, start = 0, end?: number): Readable {
  if (end !== undefined && end <= start) return Readable.from([])
  return createReadStream(blobPath(store, digest), {start, ...(end !== undefined ? {end: end - 1} : {})})
}

/**
 * Writes a stream of unknown digest as a blob (layers made here: compressed for a push, written
 * by commit, import or load): hashed as it comes, renamed into blobs/ once complete.
 */
export async function writeBlobStream(store: StoreLayout, source: AsyncIterable<Buffer | Uint8Array>): Promise<{digest: string; size: number}> {
  ensureDir(store.ingest)
  ensureDir(store.blobs)
  const tempPath = join(store.ingest, ingestName('0'.repeat(64)))
  const fh = await open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600)
  const hash = createHash('sha256')
  let size = 0
  try {
    for await (const chunk of source) {
      const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
      hash.update(buf)
      size += buf.length
      let off = 0
      while (off < buf.length) off += (await fh.write(buf, off, buf.length - off)).bytesWritten
    }
    await fh.sync()
    await fh.close()
    const digest = `sha256:${hash.digest('hex')}`
    await rename(tempPath, blobPath(store, digest))
    await syncDir(store.blobs)
    return {digest, size}
  } catch (err) {
    await fh.close().catch(() => {})
    await unlink(tempPath).catch(() => {})
    throw err
  }
}
