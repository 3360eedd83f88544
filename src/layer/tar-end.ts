import {Transform, type TransformCallback} from 'node:stream'
import {LayerError} from '../errors.js'

/**
 * Stops a tar stream at its end-of-archive marker, like GNU tar and Go's archive/tar (which
 * docker and containerd use): two 512-byte zero blocks where a header is expected end the
 * archive, and whatever follows is never given to the tar parser, so never extracted. (tar-stream
 * skips zero blocks and would go on extracting entries hidden after the marker.) A single zero
 * block followed by a header is a corrupt archive, as for Go.
 *
 * Bytes after the marker are still read (and hashed by the caller), because the diff_id is the
 * digest of the whole uncompressed blob: containerd reads "any trailing data" after the archive
 * too. `trailingBytes` tells how many there were.
 *
 * The walk follows the block structure only: header sizes (octal or base-256), the `size` record
 * of PAX headers, and tar-stream's rule that a directory has no data. `entryOffsets` lists where
 * each entry's own header starts, so the caller can check that tar-stream saw the same entries.
 */
export class TarEndOfArchive extends Transform {
  /** Offsets of the entry headers found (not PAX/GNU long headers), in order. */
  readonly entryOffsets: number[] = []
  trailingBytes = 0
  /** Whether any byte after the marker is not zero (GNU tar pads archives with zeros). */
  trailingData = false
  ended = false

  private offset = 0
  /** Data bytes (with padding) still to pass before the next header. */
  private skip = 0
  /** A header block (or a PAX body) being collected across chunks. */
  private pending: Buffer[] = []
  private pendingLength = 0
  /** Bytes to collect: 512 for a header, the padded size for a PAX body. */
  private want = 512
  private paxBody: {global: boolean; size: number} | undefined
  private zeroBlockAt: number | undefined
  private localPaxSize: string | undefined
  private globalPaxSize: string | undefined
  /** SCHILY.xattr values as raw bytes (tar-stream decodes PAX values as UTF-8, losing binary ones). */
  private localXattrs: Map<string, Buffer> | undefined
  private globalXattrs: Map<string, Buffer> | undefined
  private readonly rawXattrs = new Map<number, Map<string, Buffer>>()

  /**
   * `meter` sees every input chunk, trailing data included, before the walk (unpackLayer hashes
   * and counts the uncompressed stream there: one stream fewer between gunzip and the parser);
   * what it throws fails the stream.
   */
  constructor(
    private readonly layerName: string,
    private readonly meter?: (chunk: Buffer) => void,
  ) {
    super()
  }

  /** The raw SCHILY.xattr values of entry `index` (0-based, as in entryOffsets), handed over once. */
  takeRawXattrs(index: number): Map<string, Buffer> | undefined {
    const m = this.rawXattrs.get(index)
    this.rawXattrs.delete(index)
    return m
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    try {
      this.meter?.(chunk)
      this.consume(chunk)
      cb()
    } catch (err) {
      cb(err as Error)
    }
  }

  override _flush(cb: TransformCallback): void {
    // A single zero block at the very end is a complete archive for Go too; a partial block is
    // left for tar-stream to report ("Unexpected end of data").
    if (this.pendingLength > 0 && !this.ended) this.push(Buffer.concat(this.pending))
    cb()
  }

  /**
   * Walks one chunk. What passes goes on as few pieces as possible (one subarray of the chunk per
   * run of headers and data, not one per header and one per file's data: each piece costs a
   * write into tar-stream); only a zero block (held back), a block split between chunks
   * (collected, then passed as one) and what follows the marker break a run.
   */
  private consume(chunk: Buffer): void {
    let pos = 0
    /** Start of the run of bytes walked and not yet passed on. */
    let run = 0
    const passRun = (end: number): void => {
      if (end > run) this.push(chunk.subarray(run, end))
    }
    while (pos < chunk.length) {
      if (this.ended) {
        this.trailingBytes += chunk.length - pos
        if (!this.trailingData && !isZero(chunk, pos, chunk.length)) this.trailingData = true
        return
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos)
        this.skip -= n
        this.offset += n
        pos += n
        continue
      }
      if (this.pendingLength === 0 && chunk.length - pos >= this.want) {
        // the whole block is in this chunk: looked at in place
        const end = pos + this.want
        if (this.onBlock(chunk.subarray(pos, end))) {
          passRun(pos) // the zero block itself is never passed on
          run = end
        }
        pos = end
        continue
      }
      // a block split between chunks: what is before it goes on now, the block once whole
      if (this.pendingLength === 0) passRun(pos)
      const n = Math.min(this.want - this.pendingLength, chunk.length - pos)
      this.pending.push(chunk.subarray(pos, pos + n))
      this.pendingLength += n
      pos += n
      run = pos
      if (this.pendingLength < this.want) continue
      const block = Buffer.concat(this.pending)
      this.pending = []
      this.pendingLength = 0
      if (!this.onBlock(block)) this.push(block)
    }
    passRun(pos)
  }

  /**
   * A whole block where one was wanted: a PAX body, a header, or a zero block (true: the caller
   * never passes it on). Whoever called passes the others on.
   */
  private onBlock(block: Buffer): boolean {
    this.want = 512
    if (this.paxBody) {
      this.onPaxBody(block)
      return false
    }
    if (isZero(block, 0, block.length)) {
      this.onZeroBlock(this.offset)
      return true
    }
    this.onHeader(block)
    return false
  }

  /** A zero block where a header is expected at `at`: the first half of the end marker, or the end. */
  private onZeroBlock(at: number): void {
    if (this.zeroBlockAt !== undefined) {
      // The end-of-archive marker: nothing after it reaches the parser.
      this.ended = true
      return
    }
    // Held back: only a second zero block (the end) or the end of the stream may follow.
    this.zeroBlockAt = at
  }

  /** A header block (not zero). */
  private onHeader(block: Buffer): void {
    const at = this.offset
    if (this.zeroBlockAt !== undefined) {
      throw new LayerError(`layer ${this.layerName}: corrupt tar: a header follows a single zero block at offset ${this.zeroBlockAt}`)
    }
    this.offset += 512
    const flag = block[156]
    let size = headerSize(block)
    if (size === undefined) throw new LayerError(`layer ${this.layerName}: corrupt tar: invalid size in the header at offset ${at}`)
    if (flag === 0x78 /* x */ || flag === 0x67 /* g */) {
      // The PAX body is read whole (tar-stream caps it at 4 MiB and fails past that).
      if (size > MAX_LONG_HEADER) {
        this.skip = padded(size)
        return
      }
      this.paxBody = {global: flag === 0x67, size}
      this.want = padded(size)
      if (this.want === 0) {
        this.want = 512
        this.onPaxBody(Buffer.alloc(0))
      }
      return
    }
    if (flag === 0x4c /* L */ || flag === 0x4b /* K */) {
      this.skip = padded(size)
      return
    }
    // An entry: a local PAX header (with the global one under it) may override its size.
    this.entryOffsets.push(at)
    const xattrs = this.localXattrs ?? this.globalXattrs
    if (xattrs) this.rawXattrs.set(this.entryOffsets.length - 1, xattrs)
    this.localXattrs = undefined
    const paxSize = this.localPaxSize
    this.localPaxSize = undefined
    if (paxSize !== undefined) size = parseInt(paxSize, 10)
    if (!(size >= 0)) throw new LayerError(`layer ${this.layerName}: corrupt tar: invalid PAX size in the header at offset ${at}`)
    if (isDirectory(block)) size = 0
    this.skip = padded(size)
  }

  /** A PAX body (padded). */
  private onPaxBody(body: Buffer): void {
    const {global, size} = this.paxBody!
    this.paxBody = undefined
    this.offset += body.length
    const value = paxSize(body.subarray(0, size))
    const xattrs = paxXattrs(body.subarray(0, size))
    if (global) {
      this.globalPaxSize = value
      this.globalXattrs = xattrs
    } else {
      // tar-stream merges the global records under the local ones, and a later local header
      // replaces an earlier one.
      this.localPaxSize = value ?? this.globalPaxSize
      this.localXattrs = xattrs || this.globalXattrs ? new Map([...(this.globalXattrs ?? []), ...(xattrs ?? [])]) : undefined
    }
  }
}

const MAX_LONG_HEADER = 4 * 1024 * 1024

function padded(size: number): number {
  return Math.ceil(size / 512) * 512
}

/** Whether bytes `from` to `to` of `buf` are all zero. */
function isZero(buf: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) if (buf[i] !== 0) return false
  return true
}

/** The size field (offset 124, 12 bytes): octal text, or base-256 when the first byte has 0x80. */
function headerSize(block: Buffer): number | undefined {
  const field = block.subarray(124, 136)
  if (field[0]! & 0x80) {
    if (field[0] !== 0x80) return undefined
    let n = 0
    for (let i = 1; i < field.length; i++) n = n * 256 + field[i]!
    return Number.isSafeInteger(n) ? n : undefined
  }
  const text = field.toString('latin1').replace(/\0.*$/s, '').trim()
  if (text === '') return 0
  if (!/^[0-7]+$/.test(text)) return undefined
  return parseInt(text, 8)
}

/** tar-stream's rule: type '5', or an old-style regular file whose name ends in '/'. */
function isDirectory(block: Buffer): boolean {
  const flag = block[156]
  if (flag === 0x35) return true
  if (flag !== 0 && flag !== 0x30) return false
  const nameEnd = block.indexOf(0)
  const name = block.subarray(0, nameEnd < 0 || nameEnd > 100 ? 100 : nameEnd)
  return name.length > 0 && name[name.length - 1] === 0x2f
}

/** The SCHILY.xattr.NAME records of a PAX body, their values as the archive's bytes (as tar-stream splits records). */
function paxXattrs(body: Buffer): Map<string, Buffer> | undefined {
  const prefix = Buffer.from('SCHILY.xattr.')
  let buf = body
  let out: Map<string, Buffer> | undefined
  while (buf.length > 0) {
    let i = 0
    while (i < buf.length && buf[i] !== 0x20) i++
    const len = parseInt(buf.subarray(0, i).toString(), 10)
    if (!len) break
    const record = buf.subarray(i + 1, len - 1)
    const eq = record.indexOf(0x3d)
    if (eq === -1) break
    if (record.subarray(0, prefix.length).equals(prefix)) {
      out ??= new Map()
      out.set(record.subarray(prefix.length, eq).toString(), Buffer.from(record.subarray(eq + 1)))
    }
    buf = buf.subarray(len)
  }
  return out
}

/** The `size` record of a PAX body ("LEN key=value\n" records), as tar-stream decodes it. */
function paxSize(body: Buffer): string | undefined {
  let buf = body
  let found: string | undefined
  while (buf.length > 0) {
    let i = 0
    while (i < buf.length && buf[i] !== 0x20) i++
    const len = parseInt(buf.subarray(0, i).toString(), 10)
    if (!len) break
    const record = buf.subarray(i + 1, len - 1).toString()
    const eq = record.indexOf('=')
    if (eq === -1) break
    if (record.slice(0, eq) === 'size') found = record.slice(eq + 1)
    buf = buf.subarray(len)
  }
  return found === '' ? undefined : found
}
