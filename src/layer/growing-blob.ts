import {closeSync, openSync, read as readCb} from 'node:fs'
import {promisify} from 'node:util'
import {Readable} from 'node:stream'

const read = promisify(readCb)
const CHUNK = 256 * 1024

/** Thrown to the layer being unpacked from a download that failed (the caller retries or gives up). */
export class DownloadCancelled extends Error {
  constructor(digest: string) {
    super(`the download of ${digest} failed`)
    this.name = 'DownloadCancelled'
  }
}

/**
 * A blob still being downloaded, read as it grows: pull hands a layer to the unpacker as soon as
 * its download begins, naming the ingest file the bytes land in, then says how many bytes are
 * there (`grow`), and finally that the blob is complete and verified (`complete`; the file is
 * then renamed to `blob`, which an open descriptor does not notice) or that the download failed
 * (`cancel`). Only announced bytes are read, so the reader never sees a partial write, and the
 * stream ends only once the whole verified blob was read.
 */
export class GrowingBlob {
  private available = 0
  private complete = false
  private cancelled = false
  private waiting: Array<() => void> = []

  constructor(
    readonly digest: string,
    private readonly ingest: string,
    private readonly blob: string,
  ) {}

  grow(bytes: number): void {
    if (bytes > this.available) this.available = bytes
    this.notify()
  }

  /** The download is verified and holds `size` bytes (the announced size, when not given). */
  finish(size?: number): void {
    if (size !== undefined) this.available = size
    this.complete = true
    this.notify()
  }

  cancel(): void {
    this.cancelled = true
    this.notify()
  }

  get isCancelled(): boolean {
    return this.cancelled
  }

  /** The blob's bytes as they become available. */
  stream(): Readable {
    return Readable.from(this.chunks(), {objectMode: false})
  }

  private notify(): void {
    for (const wake of this.waiting.splice(0)) wake()
  }

  private waitForNews(): Promise<void> {
    return new Promise((resolve) => this.waiting.push(resolve))
  }

  /**
   * Resolves once the download is complete or cancelled: a layer that fails to unpack before
   * then may have failed on bytes a retry replaces (then the failure is not the layer's).
   */
  async settled(): Promise<void> {
    while (!this.complete && !this.cancelled) await this.waitForNews()
  }

  /** The ingest file, or the blob once the ingest file was renamed; waits while neither is there. */
  private async open(): Promise<number> {
    for (;;) {
      if (this.cancelled) throw new DownloadCancelled(this.digest)
      for (const path of this.complete ? [this.blob] : [this.ingest, this.blob]) {
        try {
          return openSync(path, 'r')
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
        }
      }
      if (this.complete) throw new Error(`blob ${this.digest} is not in the store`)
      await this.waitForNews()
    }
  }

  private async *chunks(): AsyncGenerator<Buffer> {
    const fd = await this.open()
    let pos = 0
    try {
      for (;;) {
        if (this.cancelled) throw new DownloadCancelled(this.digest)
        if (pos < this.available) {
          const want = Math.min(CHUNK, this.available - pos)
          const buf = Buffer.allocUnsafe(want)
          const {bytesRead} = await read(fd, buf, 0, want, pos)
          if (bytesRead === 0) throw new Error(`blob ${this.digest}: the file ended at ${pos} bytes, ${this.available} were announced`)
          pos += bytesRead
          yield bytesRead === want ? buf : buf.subarray(0, bytesRead)
          continue
        }
        if (this.complete) return
        await this.waitForNews()
      }
    } finally {
      closeSync(fd)
    }
  }
}
