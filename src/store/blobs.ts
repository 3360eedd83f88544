import {createHash, randomBytes, type Hash} from 'node:crypto'
import {constants} from 'node:fs'
import {open, readdir, readFile, rename, stat, unlink, type FileHandle} from 'node:fs/promises'
import {join} from 'node:path'
import {IntegrityError, NotFoundError} from '../errors.js'
import {ensureDir, type StoreLayout} from '../paths.js'

const SHA256 = /^sha256:([a-f0-9]{64})$/

/** Hex part of a sha256 digest; throws IntegrityError for anything else (never a path component from outside). */
export function digestHex(digest: string): string {
  const m = SHA256.exec(digest)
  if (!m) throw new IntegrityError(`unsupported or malformed digest ${JSON.stringify(digest)}`)
  return m[1]!
}

export function blobPath(store: StoreLayout, digest: string): string {
  return join(store.blobs, digestHex(digest))
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
    const hex = digestHex(digest)
    ensureDir(store.ingest)
    ensureDir(store.blobs)
    const tempPath = join(store.ingest, `${hex}.${process.pid}.${randomBytes(6).toString('hex')}.part`)
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
  const m = /^[a-f0-9]{64}\.(\d+)\.[a-f0-9]+\.part$/.exec(name)
  if (!m) return true
  const pid = Number(m[1])
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
    return (await readdir(store.blobs)).filter((n) => /^[a-f0-9]{64}$/.test(n)).map((n) => `sha256:${n}`)
  } catch {
    return []
  }
}
