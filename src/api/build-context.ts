/**
 * `POST /build`'s body: the build context as a tar (plain or gzip), unpacked into a private
 * temporary directory as the user. Entries that climb out (`..`, absolute names) or go through a
 * symlink the archive made are refused; the size is bounded.
 */
import {createWriteStream} from 'node:fs'
import {lstat, mkdir, mkdtemp, rm, symlink} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {dirname, join, posix} from 'node:path'
import {PassThrough, type Readable, Transform} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'
import {extract, type Header} from 'tar-stream'
import {ApiError} from './http.js'

/** The largest context unpacked (docker has no limit; a runaway upload must not fill the disk). */
export const MAX_CONTEXT_BYTES = 8 * 1024 * 1024 * 1024

/** The normalized relative name of an entry, or undefined for the root; refused when it climbs out. */
export function entryPath(name: string): string | undefined {
  if (name.startsWith('/')) throw new ApiError(400, `build context: absolute path ${JSON.stringify(name)} in the tar`)
  const norm = posix.normalize(name).replace(/\/+$/, '')
  if (norm === '.' || norm === '') return undefined
  if (norm === '..' || norm.startsWith('../')) throw new ApiError(400, `build context: ${JSON.stringify(name)} climbs out of the context`)
  return norm
}

/** Reads the first bytes to tell gzip from a plain tar; returns the (decompressed) stream. */
async function maybeGunzip(input: Readable): Promise<Readable> {
  const first: Buffer | null = await new Promise((resolve, reject) => {
    const onReadable = () => {
      const chunk = input.read() as Buffer | null
      cleanup()
      resolve(chunk)
    }
    const onEnd = () => {
      cleanup()
      resolve(null)
    }
    const onError = (err: Error) => {
      cleanup()
      reject(err)
    }
    const cleanup = () => {
      input.off('readable', onReadable)
      input.off('end', onEnd)
      input.off('error', onError)
    }
    input.on('readable', onReadable)
    input.on('end', onEnd)
    input.on('error', onError)
  })
  const out = new PassThrough()
  if (first) out.write(first)
  link(input, out)
  return first && first[0] === 0x1f && first[1] === 0x8b ? link(out, createGunzip()) : out
}

/** `from.pipe(to)`, with `from`'s failure (a client gone mid-upload) failing `to` too. */
function link<T extends NodeJS.WritableStream & Readable>(from: Readable, to: T): T {
  from.on('error', (err) => to.destroy(err))
  from.on('close', () => {
    if (!from.readableEnded) to.destroy(new Error('the request body ended early'))
  })
  return from.pipe(to)
}

/**
 * docker's client sends a Dockerfile from outside the context by rewriting the tar (Go's
 * ReplaceFileTarWrapper) without its end: the last file's padding and the two zero blocks are
 * missing, which docker's daemon accepts. A body that ends normally is padded to them.
 */
export function padTarEnd(): Transform {
  let size = 0
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      size += chunk.length
      cb(null, chunk)
    },
    flush(cb) {
      cb(null, Buffer.alloc(((512 - (size % 512)) % 512) + 1024))
    },
  })
}

/** Unpacks `input` into a new temporary directory and returns it (removed on failure). */
export async function unpackContext(input: Readable): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'ctr-ts-build-'))
  try {
    await unpackInto(link(await maybeGunzip(input), padTarEnd()), dir)
    return dir
  } catch (err) {
    await rm(dir, {recursive: true, force: true})
    throw err
  }
}

async function unpackInto(input: Readable, dir: string): Promise<void> {
  const links = new Set<string>()
  let total = 0
  const ex = extract()
  const check = async (rel: string) => {
    // no entry may go through a symlink of the archive
    let p = dirname(rel)
    while (p !== '.' && p !== '') {
      if (links.has(p)) throw new ApiError(400, `build context: ${JSON.stringify(rel)} goes through the symlink ${p}`)
      p = dirname(p)
    }
    const st = await lstat(join(dir, rel)).catch(() => undefined)
    if (st && !st.isDirectory()) await rm(join(dir, rel), {force: true})
  }
  const done = (async () => {
    for await (const entry of ex) {
      const h: Header = entry.header
      const rel = entryPath(h.name)
      const mode = (h.mode ?? 0o644) & 0o7777
      if (rel === undefined) {
        entry.resume()
        continue
      }
      await check(rel)
      const target = join(dir, rel)
      await mkdir(dirname(target), {recursive: true})
      if (h.type === 'directory') {
        await mkdir(target, {recursive: true, mode: mode | 0o700})
        entry.resume()
      } else if (h.type === 'file' || h.type === 'contiguous-file') {
        total += h.size ?? 0
        if (total > MAX_CONTEXT_BYTES) throw new ApiError(413, `build context larger than ${MAX_CONTEXT_BYTES} bytes`)
        await pipeline(entry, createWriteStream(target, {mode: mode | 0o600}))
      } else if (h.type === 'symlink') {
        await symlink(h.linkname ?? '', target)
        links.add(rel)
        entry.resume()
      } else {
        // hard links, devices, fifos: not part of a build context docker's client sends
        entry.resume()
      }
    }
  })()
  await Promise.all([pipeline(input, ex), done])
}
