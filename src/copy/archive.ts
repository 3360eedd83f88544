/**
 * The tar streams of `cp`: a source tree packed with its top entry named after it, and an
 * archive extracted by a CopyPlan (plan.ts), inside a root (paths resolved in scope, in-root.ts)
 * or on the host.
 */
import {createReadStream, createWriteStream, type Stats} from 'node:fs'
import {chmod, lchown, link, lstat, lutimes, mkdir, readdir, readlink, rm, symlink, utimes} from 'node:fs/promises'
import {join, posix} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {extract as tarExtract, type Header as Headers, pack as tarPack} from 'tar-stream'
import {UsageError} from '../errors.js'
import {resolveInRoot, safeEntryName} from './in-root.js'
import {type CopyPlan, plannedName} from './plan.js'

/** Maps a file's owner for the archive (host ids to container ids); the ids as they are without it. */
export type IdMap = (uid: number, gid: number) => [number, number]

function headerOf(name: string, st: Stats, ids?: IdMap): Partial<Headers> | undefined {
  const [uid, gid] = ids ? ids(st.uid, st.gid) : [st.uid, st.gid]
  const base = {name, mode: st.mode & 0o7777, uid, gid, mtime: st.mtime}
  if (st.isDirectory()) return {...base, name: `${name}/`, type: 'directory'}
  if (st.isFile()) return {...base, type: 'file', size: st.size}
  if (st.isSymbolicLink()) return {...base, type: 'symlink'}
  return undefined // devices, fifos and sockets are not copied
}

/** Packs `path` (a file, directory or symlink, not followed) as `top`, then its tree, into `out`. */
export async function packTree(path: string, top: string, out: Writable, ids?: IdMap): Promise<void> {
  const pack = tarPack()
  const done = pipeline(pack as unknown as Readable, out)
  const add = async (host: string, name: string): Promise<void> => {
    const st = await lstat(host)
    const header = headerOf(name, st, ids)
    if (!header) return
    if (header.type === 'symlink') header.linkname = await readlink(host)
    if (header.type === 'file') {
      const entry = pack.entry(header as Headers)
      await pipeline(createReadStream(host), entry as unknown as Writable)
    } else {
      await new Promise<void>((resolve, reject) => pack.entry(header as Headers, (err) => (err ? reject(err) : resolve())))
    }
    if (header.type === 'directory') {
      const prefix = name === '.' ? '' : `${name}/`
      for (const child of (await readdir(host)).sort()) await add(join(host, child), `${prefix}${child}`)
    }
  }
  try {
    await add(path, top)
    pack.finalize()
  } catch (err) {
    pack.destroy(err as Error)
    await done.catch(() => {})
    throw err
  }
  await done
}

export interface ExtractOptions {
  /** Resolve every path in scope of this root (a container); absent: host paths as they are. */
  root?: string
  /** Owners: the archive's (`keep`), root of the container (`root`), or left to whoever writes (`none`). */
  owner: 'keep' | 'root' | 'none'
}

/**
 * Extracts an archive where `plan` says (or a plan made from the archive's first entry, when the
 * source's kind is known only from it); directories get their modes and times last.
 */
export async function extractArchive(input: Readable, planOrFirst: CopyPlan | ((first: Headers) => CopyPlan), opts: ExtractOptions): Promise<void> {
  let plan: CopyPlan | undefined = typeof planOrFirst === 'function' ? undefined : planOrFirst
  const ex = tarExtract()
  const piping = pipeline(input, ex as unknown as Writable)
  piping.catch(() => {})
  const where = (containerPath: string) => (opts.root !== undefined ? resolveInRoot(opts.root, containerPath, false) : containerPath)
  const dirs: Array<{path: string; header: Headers}> = []
  const own = async (path: string, h: Headers) => {
    if (opts.owner === 'none') return
    await lchown(path, opts.owner === 'keep' ? (h.uid ?? 0) : 0, opts.owner === 'keep' ? (h.gid ?? 0) : 0)
  }
  for await (const entry of ex) {
    const h = entry.header
    plan ??= (planOrFirst as (first: Headers) => CopyPlan)(h)
    const rel = plannedName(safeEntryName(h.name), plan)
    if (rel === undefined || rel === '') {
      entry.resume()
      continue
    }
    const target = where(posix.join(plan.dir, rel))
    const existing = await lstat(target).catch(() => undefined)
    if (h.type === 'directory') {
      if (existing && !existing.isDirectory()) await rm(target, {force: true})
      if (!existing?.isDirectory()) await mkdir(target, {mode: 0o700})
      await own(target, h)
      dirs.push({path: target, header: h})
      entry.resume()
      continue
    }
    if (existing?.isDirectory()) throw new UsageError(`cannot overwrite directory ${posix.join(plan.dir, rel)} with a non-directory`)
    if (existing) await rm(target, {force: true})
    if (h.type === 'file' || h.type === 'contiguous-file') {
      await pipeline(entry, createWriteStream(target, {mode: 0o600, flags: 'wx'}))
      await own(target, h)
      await chmod(target, h.mode ?? 0o644)
      if (h.mtime) await utimes(target, h.mtime, h.mtime)
    } else if (h.type === 'symlink') {
      entry.resume()
      await symlink(h.linkname ?? '', target)
      await own(target, h)
      if (h.mtime) await lutimes(target, h.mtime, h.mtime).catch(() => {})
    } else if (h.type === 'link') {
      entry.resume()
      const linked = plannedName(safeEntryName(h.linkname ?? ''), plan)
      if (linked === undefined || linked === '') throw new UsageError(`hard link to outside the copied tree: ${h.linkname ?? ''}`)
      await link(where(posix.join(plan.dir, linked)), target)
    } else {
      entry.resume() // devices, fifos: not created (a rootless user cannot make devices)
    }
  }
  await piping
  // (not a CtrError: the source side's error, such as a missing file, is the one to report)
  if (!plan) throw new Error('the archive is empty')
  for (const {path, header} of dirs.reverse()) {
    await chmod(path, header.mode ?? 0o755)
    if (header.mtime) await utimes(path, header.mtime, header.mtime)
  }
}
