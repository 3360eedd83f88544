import {Transform, type TransformCallback} from 'node:stream'
import {createGunzip, createZstdDecompress} from 'node:zlib'
import {LayerError} from '../errors.js'
import {compressionOf, type Compression} from '../oci/types.js'

/** What the first bytes of a blob say it is. */
export function sniffCompression(head: Uint8Array): Compression | 'unknown' {
  if (head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip'
  if (head.length >= 4) {
    // zstd frame magic 0xFD2FB528, or a skippable frame 0x184D2A5? (little endian)
    if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return 'zstd'
    if ((head[0]! & 0xf0) === 0x50 && head[1] === 0x2a && head[2] === 0x4d && head[3] === 0x18) return 'zstd'
  }
  return 'unknown'
}

/**
 * Passes bytes through unchanged after checking that the first ones match the compression the
 * media type announced: a gzip layer must start with the gzip magic, a zstd one with a zstd frame,
 * and an uncompressed one must not look compressed. A lying media type is a LayerError.
 */
class MagicCheck extends Transform {
  private head: Buffer | null = Buffer.alloc(0)

  constructor(
    private readonly expected: Compression,
    private readonly layerName: string,
  ) {
    super()
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    if (this.head === null) return cb(null, chunk)
    this.head = Buffer.concat([this.head, chunk])
    if (this.head.length < 4) return cb()
    const err = this.check(this.head)
    const out = this.head
    this.head = null
    cb(err, err ? undefined : out)
  }

  override _flush(cb: TransformCallback): void {
    if (this.head === null) return cb()
    const err = this.check(this.head)
    if (err) return cb(err)
    if (this.head.length > 0) this.push(this.head)
    this.head = null
    cb()
  }

  private check(head: Buffer): LayerError | null {
    const found = sniffCompression(head)
    if (this.expected === 'none') {
      if (found === 'unknown') return null
      return new LayerError(`layer ${this.layerName}: media type says uncompressed tar but the content is ${found}-compressed`)
    }
    if (found === this.expected) return null
    const what = found === 'unknown' ? (head.length === 0 ? 'empty' : 'not compressed that way') : `${found}-compressed`
    return new LayerError(`layer ${this.layerName}: media type says ${this.expected} but the content is ${what}`)
  }
}

/**
 * The streams that turn a layer blob of `mediaType` into its uncompressed tar, to put in a
 * pipeline after the blob: a magic-byte check, then gunzip / zstd decompression (none for plain tar).
 */
export function decompressStreams(mediaType: string, layerName: string): Transform[] {
  const compression = compressionOf(mediaType)
  const check = new MagicCheck(compression, layerName)
  switch (compression) {
    case 'gzip':
      return [check, createGunzip({chunkSize: 128 * 1024})]
    case 'zstd':
      return [check, createZstdDecompress({chunkSize: 128 * 1024})]
    case 'none':
      return [check]
  }
}

/** Whether an error came from zlib (corrupt compressed data) rather than from the tar or the disk. */
export function isDecompressionError(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | null)?.code
  return typeof code === 'string' && (code.startsWith('Z_') || code.startsWith('ERR_ZSTD') || code.startsWith('ZSTD_'))
}
