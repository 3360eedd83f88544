import {execFile} from 'node:child_process'
import {createReadStream, type Stats} from 'node:fs'
import {lstat, readdir, readlink} from 'node:fs/promises'
import {join} from 'node:path'
import type {Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {pack as tarPack, type Header, type Pack} from 'tar-stream'

type Headers = Partial<Header> & {name: string}
import {OPAQUE_MARKER, parseWhiteout, whiteoutName} from './whiteout.js'

/**
 * Layer tars from directories, for `commit`, `export` and (later) `build`:
 *
 *   diff   the upper directory of a container's overlay as an OCI layer: new and changed files
 *          with owners, modes, mtimes and symlinks, hard links kept; a file deleted in the
 *          container (fuse-overlayfs leaves a char device 0/0, or a `.wh.NAME` file) becomes
 *          `.wh.NAME`; a directory made opaque (an `opaque` xattr, or `.wh..wh..opq`) gets
 *          `.wh..wh..opq`.
 *   rootfs the merged tree of an upper directory over layer directories (topmost first), with
 *          every whiteout applied: what `export` writes.
 *
 * It runs inside the user namespace (diff-tar-main.ts): lstat then gives the container's own
 * uids and gids (owners mapped back) and every file is readable.
 */

export type DiffTarJob = {mode: 'diff'; dir: string} | {mode: 'rootfs'; dirs: string[]}

/** Directories with an overlay opaque attribute under `root` (getfattr, one run), relative paths. */
export async function opaqueDirs(root: string): Promise<Set<string>> {
  const out = await new Promise<string>((resolve) => {
    execFile('getfattr', ['-R', '-h', '--absolute-names', '-d', '-m', '^(trusted|user)\\.(overlay|fuseoverlayfs)\\.opaque$', root], {maxBuffer: 64 * 1024 * 1024}, (_err, stdout) =>
      resolve(String(stdout ?? '')),
    )
  })
  const found = new Set<string>()
  let current: string | undefined
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) current = line.slice(8)
    else if (current && /opaque="?y/.test(line)) {
      const rel = current === root ? '' : current.startsWith(`${root}/`) ? current.slice(root.length + 1) : undefined
      if (rel !== undefined) found.add(rel)
    }
  }
  return found
}

function isWhiteoutDevice(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0
}

class TarWriter {
  readonly pack: Pack = tarPack()
  private readonly links = new Map<string, string>()

  async add(path: string, name: string, st: Stats): Promise<void> {
    const base: Headers = {name, mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime}
    if (st.isDirectory()) return this.entry({...base, name: `${name}/`, type: 'directory'})
    if (st.isSymbolicLink()) return this.entry({...base, type: 'symlink', linkname: await readlink(path)})
    if (st.isFIFO()) return this.entry({...base, type: 'fifo'})
    if (st.isCharacterDevice() || st.isBlockDevice()) {
      return this.entry({...base, type: st.isCharacterDevice() ? 'character-device' : 'block-device', devmajor: Math.floor(st.rdev / 256) & 0xfff, devminor: (st.rdev & 0xff) | ((st.rdev >> 12) & 0xfff00)})
    }
    if (!st.isFile()) return // sockets are not kept in layers
    if (st.nlink > 1) {
      const key = `${st.dev}:${st.ino}`
      const first = this.links.get(key)
      if (first !== undefined) return this.entry({...base, type: 'link', linkname: first, size: 0})
      this.links.set(key, name)
    }
    const entry = this.pack.entry({...base, type: 'file', size: st.size} as Header)
    await pipeline(createReadStream(path), entry as unknown as Writable)
  }

  /** An empty regular file entry (whiteouts). */
  marker(name: string): Promise<void> {
    return this.entry({name, type: 'file', mode: 0o644, uid: 0, gid: 0, mtime: new Date(0), size: 0})
  }

  /** An entry without data (an empty buffer: tar-stream waits for the data of a file otherwise). */
  private entry(h: Headers): Promise<void> {
    return new Promise((resolve, reject) => this.pack.entry(h as Header, Buffer.alloc(0), (err) => (err ? reject(err) : resolve())))
  }
}

async function sortedEntries(dir: string): Promise<string[]> {
  return (await readdir(dir)).sort()
}

/** fuse-overlayfs marks an opaque directory with a whiteout device of this name too. */
const FUSE_OPAQUE_DEVICE = '.wh..opq'
/** What the runtime creates in the upper directory as mount points: not the container's changes. */
const MOUNT_POINT_FILES = new Set(['etc/hostname', 'etc/hosts', 'etc/resolv.conf'])
const MOUNT_POINT_DIRS = new Set(['dev', 'proc', 'sys'])

/** The changes of an upper directory as an OCI layer tar. */
async function writeDiff(tar: TarWriter, root: string): Promise<void> {
  const opaque = await opaqueDirs(root)
  const walk = async (rel: string): Promise<void> => {
    const dir = rel ? join(root, rel) : root
    const names = await sortedEntries(dir)
    const prefix = rel ? `${rel}/` : ''
    const whiteouts = new Set<string>()
    const children: Array<{name: string; st: Stats}> = []
    if (rel && opaque.has(rel)) whiteouts.add(OPAQUE_MARKER)
    for (const name of names) {
      const st = await lstat(join(dir, name))
      const rule = parseWhiteout(name)
      if (name === FUSE_OPAQUE_DEVICE && isWhiteoutDevice(st)) whiteouts.add(OPAQUE_MARKER)
      else if (isWhiteoutDevice(st)) whiteouts.add(rule ? name : whiteoutName(name))
      else if (rule?.kind === 'whiteout' || rule?.kind === 'opaque') whiteouts.add(name)
      else if (!rule) children.push({name, st})
    }
    for (const w of [...whiteouts].sort()) await tar.marker(`${prefix}${w}`)
    for (const {name, st} of children) {
      const childRel = `${prefix}${name}`
      if (MOUNT_POINT_FILES.has(childRel) && st.isFile() && st.size === 0) continue
      if (MOUNT_POINT_DIRS.has(childRel) && st.isDirectory() && (await onlyMarkers(join(root, childRel)))) continue
      await tar.add(join(root, childRel), childRel, st)
      if (st.isDirectory()) await walk(childRel)
    }
  }
  await walk('')
}

/** True when a directory holds nothing but whiteouts (a mount point the runtime created). */
async function onlyMarkers(dir: string): Promise<boolean> {
  return (await readdir(dir)).every((n) => n.startsWith('.wh.'))
}

/** The merged tree of `dirs` (topmost first) with whiteouts applied. */
async function writeRootfs(tar: TarWriter, dirs: string[]): Promise<void> {
  /** What is shown at a path so far: its kind, from the highest layer that has it. */
  const shown = new Map<string, 'dir' | 'other'>()
  const removed = new Set<string>()
  const opaqueAbove = new Set<string>()
  const hiddenBy = (rel: string): boolean => {
    const parts = rel.split('/')
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join('/')
      if (removed.has(p)) return true
      if (i < parts.length && opaqueAbove.has(p)) return true
    }
    return false
  }
  for (const root of dirs) {
    const opaque = await opaqueDirs(root)
    const newRemoved: string[] = []
    const newOpaque: string[] = [...opaque]
    const walk = async (rel: string): Promise<void> => {
      const names = await sortedEntries(rel ? join(root, rel) : root)
      for (const name of names) {
        const childRel = rel ? `${rel}/${name}` : name
        const path = join(root, childRel)
        const st = await lstat(path)
        const rule = parseWhiteout(name)
        if (name === FUSE_OPAQUE_DEVICE && isWhiteoutDevice(st)) {
          newOpaque.push(rel)
          continue
        }
        if (isWhiteoutDevice(st) || rule?.kind === 'whiteout') {
          newRemoved.push(rule?.kind === 'whiteout' ? (rel ? `${rel}/${rule.target}` : rule.target) : childRel)
          continue
        }
        if (rule?.kind === 'opaque') {
          newOpaque.push(rel)
          continue
        }
        if (rule) continue
        if (hiddenBy(childRel)) continue
        const before = shown.get(childRel)
        if (before === 'other') continue
        if (before === 'dir') {
          if (st.isDirectory()) await walk(childRel)
          continue
        }
        shown.set(childRel, st.isDirectory() ? 'dir' : 'other')
        await tar.add(path, childRel, st)
        if (st.isDirectory()) await walk(childRel)
      }
    }
    await walk('')
    for (const r of newRemoved) removed.add(r)
    for (const o of newOpaque) opaqueAbove.add(o)
  }
}

/** Writes the tar of `job` to `out`. */
export async function writeDiffTar(job: DiffTarJob, out: NodeJS.WritableStream): Promise<void> {
  const tar = new TarWriter()
  const done = pipeline(tar.pack, out as Writable)
  try {
    if (job.mode === 'diff') await writeDiff(tar, job.dir)
    else await writeRootfs(tar, job.dirs)
    tar.pack.finalize()
  } catch (err) {
    tar.pack.destroy(err as Error)
    throw err
  }
  await done
}
