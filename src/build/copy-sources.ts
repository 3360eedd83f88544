import {existsSync, type Stats} from 'node:fs'
import {lstat, readdir, readFile, readlink} from 'node:fs/promises'
import {basename, join} from 'node:path'
import {matchesGlob, normalize, posix} from 'node:path/posix'
import {Readable} from 'node:stream'
import {createGunzip} from 'node:zlib'
import {extract as tarExtract} from 'tar-stream'
import {UsageError} from '../errors.js'
import {isIgnored, type DockerignoreRules} from './dockerignore.js'
import type {LayerEntry} from './entries.js'

const GLOB = /[*?[]/

export interface Owner {
  uid: number
  gid: number
}

/** Where a COPY puts things: `dest` (absolute, cleaned) and whether it names a directory. */
export interface Destination {
  path: string
  isDir: boolean
}

export function destination(dest: string, workdir: string, manySources: boolean): Destination {
  const abs = dest.startsWith('/') ? dest : posix.join(workdir || '/', dest)
  return {path: normalize(abs).replace(/\/+$/, '') || '/', isDir: dest.endsWith('/') || dest === '.' || manySources}
}

const rel = (p: string): string => p.replace(/^\/+/, '')

/** Directory entries (owned by `owner`) for the destination and its parents that the lower layers do not have. */
export function parentDirs(path: string, lowerDirs: string[], owner: Owner, includeSelf: boolean): LayerEntry[] {
  const out: LayerEntry[] = []
  const parts = rel(path).split('/').filter(Boolean)
  const upTo = includeSelf ? parts.length : parts.length - 1
  for (let i = 1; i <= upTo; i++) {
    const name = parts.slice(0, i).join('/')
    const exists = lowerDirs.some((d) => existsSync(join(d, name)))
    if (!exists) out.push({name, type: 'directory', mode: 0o755, uid: owner.uid, gid: owner.gid, mtime: new Date()})
  }
  return out
}

/** Every path of the context (relative, `/`-separated) that .dockerignore does not leave out. */
async function walkContext(root: string, rules: DockerignoreRules): Promise<Map<string, Stats>> {
  const all = new Map<string, Stats>()
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir ? join(root, dir) : root)).sort()) {
      const r = dir ? `${dir}/${name}` : name
      const st = await lstat(join(root, r))
      if (!isIgnored(rules, r)) all.set(r, st)
      if (st.isDirectory()) await walk(r)
    }
  }
  await walk('')
  return all
}

function hostEntry(root: string, r: string, st: Stats, name: string, owner: Owner, chmod: number | undefined): Promise<LayerEntry> | LayerEntry | undefined {
  const base = {name, mode: chmod ?? st.mode & 0o7777, uid: owner.uid, gid: owner.gid, mtime: st.mtime}
  if (st.isDirectory()) return {...base, type: 'directory'}
  if (st.isSymbolicLink()) return readlink(join(root, r)).then((linkname) => ({...base, mode: 0o777, type: 'symlink' as const, linkname}))
  if (st.isFile()) return {...base, type: 'file', hostPath: join(root, r), size: st.size}
  return undefined
}

export class ContextSources {
  private files?: Map<string, Stats>
  constructor(
    readonly root: string,
    private readonly rules: DockerignoreRules,
  ) {}

  private async all(): Promise<Map<string, Stats>> {
    return (this.files ??= await walkContext(this.root, this.rules))
  }

  /** The context paths a COPY source names (a path or a glob), relative. */
  async match(src: string): Promise<string[]> {
    const clean = normalize(rel(src)).replace(/\/+$/, '')
    if (clean.startsWith('..')) throw new UsageError(`COPY source ${JSON.stringify(src)} is outside the build context`)
    const files = await this.all()
    if (clean === '.' || clean === '') return ['.']
    if (GLOB.test(clean)) return [...files.keys()].filter((p) => matchesGlob(p, clean))
    return files.has(clean) ? [clean] : []
  }

  /** Layer entries for COPY/ADD of `srcs` from the context to `dest`. */
  async entries(srcs: string[], dest: Destination, owner: Owner, chmod: number | undefined, what: string): Promise<LayerEntry[]> {
    const files = await this.all()
    const out: LayerEntry[] = []
    for (const src of srcs) {
      const matched = await this.match(src)
      if (matched.length === 0) throw new UsageError(`${what}: "${src}" not found in the build context (or excluded by .dockerignore)`)
      const toDir = dest.isDir || GLOB.test(src)
      for (const m of matched) {
        const st = m === '.' ? await lstat(this.root) : files.get(m)!
        if (st.isDirectory()) {
          // The contents of a directory, not the directory itself.
          const prefix = m === '.' ? '' : `${m}/`
          for (const [p, s] of files) {
            if (!p.startsWith(prefix) || p === m) continue
            const e = await hostEntry(this.root, p, s, rel(posix.join(dest.path, p.slice(prefix.length))), owner, chmod)
            if (e) out.push(e)
          }
        } else {
          const target = toDir ? posix.join(dest.path, basename(m)) : dest.path
          const e = await hostEntry(this.root, m, st, rel(target), owner, chmod)
          if (e) out.push(e)
        }
      }
    }
    return out
  }

  async isArchive(src: string): Promise<string | undefined> {
    const m = await this.match(src)
    if (m.length !== 1 || m[0] === '.' || !(await this.all()).get(m[0]!)?.isFile()) return undefined
    const head = Buffer.alloc(512)
    const fh = await (await import('node:fs/promises')).open(join(this.root, m[0]!), 'r')
    try {
      await fh.read(head, 0, 512, 0)
    } finally {
      await fh.close()
    }
    const gz = head[0] === 0x1f && head[1] === 0x8b
    const tar = head.subarray(257, 262).toString('latin1') === 'ustar'
    return gz || tar ? join(this.root, m[0]!) : undefined
  }
}

/** A tar as entries (names relative), gunzipped when it starts with the gzip magic. */
export async function tarEntries(bytes: Buffer, map: (name: string) => string | undefined): Promise<LayerEntry[]> {
  const input = bytes[0] === 0x1f && bytes[1] === 0x8b ? Readable.from([bytes]).pipe(createGunzip()) : Readable.from([bytes])
  const ex = tarExtract()
  const out: LayerEntry[] = []
  const done = new Promise<void>((resolve, reject) => {
    ex.on('entry', (h, stream, next) => {
      const chunks: Buffer[] = []
      stream.on('data', (c: unknown) => chunks.push(c as Buffer))
      stream.on('end', () => {
        const name = map(normalize(h.name).replace(/^\/+|\/+$/g, ''))
        const type = h.type === 'directory' || h.type === 'symlink' || h.type === 'link' || h.type === 'file' ? h.type : undefined
        if (name !== undefined && type) {
          const linkname = h.type === 'link' && h.linkname ? map(normalize(h.linkname).replace(/^\/+/, '')) : h.linkname
          out.push({name, type, mode: h.mode ?? 0o644, uid: h.uid ?? 0, gid: h.gid ?? 0, mtime: h.mtime ?? new Date(0), ...(type === 'file' ? {data: Buffer.concat(chunks)} : {}), ...(linkname ? {linkname} : {})})
        }
        next()
      })
      stream.on('error', reject)
    })
    ex.on('finish', resolve)
    ex.on('error', reject)
  })
  input.pipe(ex)
  await done
  return out
}

/** ADD of a local archive: its entries under `dest`. */
export async function archiveEntries(file: string, dest: Destination): Promise<LayerEntry[]> {
  const bytes = await readFile(file)
  return tarEntries(bytes, (n) => (n === '' || n === '.' ? undefined : rel(posix.join(dest.path, n))))
}

/**
 * COPY --from: entries of a stage's (or image's) root filesystem tar that `srcs` (absolute paths
 * or globs) name, moved under `dest`. Owners are kept unless `owner` is given.
 */
export async function stageEntries(rootfsTar: Buffer, srcs: string[], dest: Destination, owner: Owner | undefined, chmod: number | undefined, what: string): Promise<LayerEntry[]> {
  const all = await tarEntries(rootfsTar, (n) => n)
  const byName = new Map(all.map((e) => [e.name, e]))
  const out: LayerEntry[] = []
  const renamed = new Map<string, string>()
  for (const src of srcs) {
    const clean = rel(normalize(src.startsWith('/') ? src : `/${src}`).replace(/\/+$/, ''))
    const roots = clean === '' ? [''] : GLOB.test(clean) ? all.filter((e) => matchesGlob(e.name, clean)).map((e) => e.name) : byName.has(clean) ? [clean] : []
    if (roots.length === 0) throw new UsageError(`${what}: "${src}" not found`)
    const toDir = dest.isDir || GLOB.test(clean)
    for (const r of roots) {
      const e = r === '' ? undefined : byName.get(r)
      if (r === '' || e?.type === 'directory') {
        const prefix = r === '' ? '' : `${r}/`
        for (const c of all) {
          if (!c.name.startsWith(prefix) || c.name === r) continue
          const name = rel(posix.join(dest.path, c.name.slice(prefix.length)))
          renamed.set(c.name, name)
          out.push({...c, name})
        }
      } else if (e) {
        const name = rel(toDir ? posix.join(dest.path, basename(r)) : dest.path)
        renamed.set(r, name)
        out.push({...e, name})
      }
    }
  }
  return out.flatMap((e): LayerEntry[] => {
    let x = e
    if (x.type === 'link') {
      const target = renamed.get(x.linkname ?? '')
      if (target !== undefined) x = {...x, linkname: target}
      else {
        const t = byName.get(x.linkname ?? '')
        if (!t?.data) return []
        x = {...x, type: 'file', data: t.data, mode: t.mode}
        delete x.linkname
      }
    }
    return [{...x, ...(owner ? {uid: owner.uid, gid: owner.gid} : {}), ...(chmod !== undefined && x.type !== 'symlink' ? {mode: chmod} : {})}]
  })
}

/** ADD of an http(s) URL: one file, mode 0600, at `dest` (or dest/NAME for a directory). */
export async function urlEntry(url: string, dest: Destination, owner: Owner, chmod: number | undefined): Promise<LayerEntry> {
  let res: Response
  try {
    res = await fetch(url)
  } catch (err) {
    throw new UsageError(`ADD ${url}: ${(err as Error).message}`)
  }
  if (!res.ok) throw new UsageError(`ADD ${url}: HTTP ${res.status}`)
  const data = Buffer.from(await res.arrayBuffer())
  const fileName = basename(new URL(url).pathname) || 'index.html'
  const lm = res.headers.get('last-modified')
  const target = dest.isDir ? posix.join(dest.path, fileName) : dest.path
  return {name: rel(target), type: 'file', mode: chmod ?? 0o600, uid: owner.uid, gid: owner.gid, mtime: lm ? new Date(lm) : new Date(), data}
}
