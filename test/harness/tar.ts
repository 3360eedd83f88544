/**
 * Build tar layers in memory with tar-stream's pack side, compress them, and list a tar's entries.
 */
import {pack, extract} from 'tar-stream'
import {gzipSync, gunzipSync, zstdCompressSync, zstdDecompressSync, constants as zlibConstants} from 'node:zlib'
import type {Compression} from '../../src/oci/types.js'

export interface TarEntry {
  /** Path inside the layer, relative, no leading slash; directories without a trailing slash. */
  name: string
  type: 'file' | 'directory' | 'symlink' | 'link'
  mode?: number
  uid?: number
  gid?: number
  mtime?: Date
  content?: Buffer | string
  /** Symlink target, or for a hard link the path (relative to the layer root) it links to. */
  linkname?: string
  /** PAX records (e.g. `SCHILY.xattr.user.NAME`). */
  pax?: Record<string, string>
}

/** The default timestamp of every fixture entry: fixed so blobs (and digests) are reproducible. */
export const DEFAULT_MTIME = new Date('2024-01-01T00:00:00Z')

const unameOf = (id: number) => (id === 0 ? 'root' : id === 65534 ? 'nobody' : id === 1000 ? 'app' : '')

export async function buildTar(entries: TarEntry[]): Promise<Buffer> {
  const p = pack()
  const chunks: Buffer[] = []
  const done = new Promise<void>((resolve, reject) => {
    p.on('data', (c: unknown) => chunks.push(c as Buffer))
    p.on('end', () => resolve())
    p.on('error', reject)
  })
  for (const e of entries) {
    const uid = e.uid ?? 0
    const gid = e.gid ?? 0
    const defaultMode = e.type === 'directory' ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644
    const header = {
      name: e.type === 'directory' ? `${e.name}/` : e.name,
      type: e.type,
      mode: e.mode ?? defaultMode,
      uid,
      gid,
      uname: unameOf(uid),
      gname: unameOf(gid),
      mtime: e.mtime ?? DEFAULT_MTIME,
      linkname: e.linkname,
      ...(e.pax ? {pax: e.pax} : {}),
    }
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (e.type === 'file') {
        const content = typeof e.content === 'string' ? Buffer.from(e.content) : (e.content ?? Buffer.alloc(0))
        p.entry({...header, size: content.length}, content, cb)
      } else {
        p.entry({...header, size: 0}, cb)
      }
    })
  }
  p.finalize()
  await done
  return Buffer.concat(chunks)
}

export function compress(tar: Buffer, compression: Compression): Buffer {
  switch (compression) {
    case 'gzip':
      return gzipSync(tar, {level: 6})
    case 'zstd':
      return zstdCompressSync(tar, {params: {[zlibConstants.ZSTD_c_compressionLevel]: 3}})
    case 'none':
      return tar
  }
}

export function decompress(blob: Buffer, compression: Compression): Buffer {
  switch (compression) {
    case 'gzip':
      return gunzipSync(blob)
    case 'zstd':
      return zstdDecompressSync(blob)
    case 'none':
      return blob
  }
}

export interface ListedEntry {
  name: string
  type: string
  mode: number
  uid: number
  gid: number
  size: number
  mtime?: Date
  linkname?: string
}

/** List the entries of an uncompressed tar (long names resolved by tar-stream). */
export async function listTar(tar: Buffer): Promise<ListedEntry[]> {
  const ex = extract()
  const out: ListedEntry[] = []
  const done = (async () => {
    for await (const entry of ex) {
      const h = entry.header
      out.push({
        name: h.name,
        type: h.type ?? 'file',
        mode: h.mode ?? 0,
        uid: h.uid ?? 0,
        gid: h.gid ?? 0,
        size: h.size ?? 0,
        mtime: h.mtime,
        linkname: h.linkname ?? undefined,
      })
      entry.resume()
    }
  })()
  ex.end(tar)
  await done
  return out
}
