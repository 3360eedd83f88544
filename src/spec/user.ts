import {closeSync, fstatSync, lstatSync, openSync, readSync, readlinkSync, type Stats} from 'node:fs'
import {join} from 'node:path'
import {UsageError} from '../errors.js'

/** The container process's identity, resolved against the image's /etc/passwd and /etc/group. */
export interface ResolvedUser {
  uid: number
  gid: number
  /** Supplementary groups: the groups of /etc/group that list the user (only when no group was given). */
  additionalGids: number[]
  /** Home directory from /etc/passwd, `/` when unknown (docker's default). */
  home: string
  /** The user's name when it is in /etc/passwd. */
  name?: string
}

interface PasswdEntry {
  name: string
  uid: number
  gid: number
  home: string
}
interface GroupEntry {
  name: string
  gid: number
  members: string[]
}

const MAX_ID = 2147483647
/** The kernel's NGROUPS_MAX: setgroups(2) refuses more supplementary groups. */
export const MAX_GROUPS = 65536
/** /etc/passwd and /etc/group larger than this are refused (parsing stays linear in the size read). */
export const MAX_ID_FILE_BYTES = 16 * 1024 * 1024

function parseId(s: string): number | undefined {
  if (!/^\d+$/.test(s)) return undefined
  const n = Number(s)
  if (n > MAX_ID) throw new UsageError(`uids and gids must be in range 0-${MAX_ID}: ${s}`)
  return n
}

export function parsePasswd(text: string | undefined): PasswdEntry[] {
  const out: PasswdEntry[] = []
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const f = line.split(':')
    if (f.length < 4) continue
    const uid = /^\d+$/.test(f[2]!) ? Number(f[2]) : NaN
    const gid = /^\d+$/.test(f[3]!) ? Number(f[3]) : NaN
    if (Number.isNaN(uid) || Number.isNaN(gid)) continue
    out.push({name: f[0]!, uid, gid, home: f[5] || '/'})
  }
  return out
}

export function parseGroup(text: string | undefined): GroupEntry[] {
  const out: GroupEntry[] = []
  for (const line of (text ?? '').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue
    const f = line.split(':')
    if (f.length < 3 || !/^\d+$/.test(f[2]!)) continue
    out.push({name: f[0]!, gid: Number(f[2]), members: (f[3] ?? '').split(',').map((m) => m.trim()).filter(Boolean)})
  }
  return out
}

/**
 * The gids of the groups of /etc/group whose member list names `user`, in file order, without
 * duplicates and without `primaryGid`. Linear in the size of the file: a line is split only when
 * it mentions the name. More than MAX_GROUPS groups is one clear error, like the kernel's limit.
 */
export function supplementaryGroups(text: string | undefined, user: string, primaryGid: number): number[] {
  const gids = new Set<number>()
  for (const line of (text ?? '').split('\n')) {
    if (!line.includes(user) || line.startsWith('#')) continue
    const f = line.split(':', 4)
    if (f.length < 4 || !/^\d+$/.test(f[2]!)) continue
    const gid = Number(f[2])
    if (gid === primaryGid || gids.has(gid)) continue
    if (!f[3]!.split(',').some((m) => m.trim() === user)) continue
    gids.add(gid)
    if (gids.size > MAX_GROUPS) {
      throw new UsageError(`user ${user} is a member of more than ${MAX_GROUPS} groups in the image's /etc/group (the kernel's limit)`)
    }
  }
  return [...gids]
}

/**
 * Resolves `-u` (or the image's User) like runc/docker: `name`, `uid`, `uid:gid`, `name:group`,
 * `uid:groupname`, ... A numeric uid need not exist in /etc/passwd (its gid is then 0); a name
 * must. Without a group, the primary group comes from /etc/passwd and the supplementary groups
 * from /etc/group. Empty or undefined means root.
 */
export function resolveUser(spec: string | undefined, files: {passwd?: string; group?: string}): ResolvedUser {
  const s = (spec ?? '').trim()
  const colon = s.indexOf(':')
  const userArg = colon < 0 ? s : s.slice(0, colon)
  const groupArg = colon < 0 ? '' : s.slice(colon + 1)
  if (colon >= 0 && groupArg === '') throw new UsageError(`invalid user "${spec}": empty group`)
  const passwd = parsePasswd(files.passwd)

  let uid = 0
  let gid = 0
  let home = '/'
  let name: string | undefined
  const userWanted = userArg === '' ? '0' : userArg
  const numericUid = parseId(userWanted)
  const entry =
    numericUid !== undefined ? passwd.find((p) => p.uid === numericUid) : passwd.find((p) => p.name === userWanted)
  if (entry) {
    uid = entry.uid
    gid = entry.gid
    home = entry.home
    name = entry.name
  } else if (numericUid !== undefined) {
    uid = numericUid
    if (uid === 0) home = '/root'
  } else {
    throw new UsageError(`unable to find user ${userWanted}: no matching entries in passwd file`)
  }

  let additionalGids: number[] = []
  if (groupArg !== '') {
    const numericGid = parseId(groupArg)
    if (numericGid !== undefined) {
      gid = numericGid
    } else {
      const g = parseGroup(files.group).find((x) => x.name === groupArg)
      if (!g) throw new UsageError(`unable to find group ${groupArg}: no matching entries in group file`)
      gid = g.gid
    }
  } else if (name !== undefined) {
    additionalGids = supplementaryGroups(files.group, name, gid)
  }
  return {uid, gid, additionalGids, home, ...(name !== undefined ? {name} : {})}
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch {
    return undefined
  }
}

/** A whiteout in one layer: a `.wh.NAME` file, or overlayfs' 0:0 character device. */
function isWhiteoutDevice(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0
}

const OPAQUE = '.wh..wh..opq'

function splitPath(path: string): string[] {
  return path.split('/').filter((c) => c !== '' && c !== '.')
}

/** `..`-safe join of components, clamped at the root like a chroot would. */
function clampJoin(base: string[], rel: string[]): string[] {
  const out = [...base]
  for (const c of rel) {
    if (c === '..') out.pop()
    else out.push(c)
  }
  return out
}

type Lookup = {kind: 'file'; path: string} | {kind: 'missing'} | {kind: 'symlink'; at: number; target: string}

/** Looks `comps` up through the layers (topmost first) without following symlinks. */
function lookupInLayers(layerDirs: string[], comps: string[]): Lookup {
  for (const layer of layerDirs) {
    let opaque = lstatOrUndefined(join(layer, OPAQUE)) !== undefined
    let decided: Lookup | undefined
    for (let j = 0; j < comps.length; j++) {
      const parent = join(layer, ...comps.slice(0, j))
      const here = join(parent, comps[j]!)
      const st = lstatOrUndefined(here)
      if (!st) {
        // Deleted in this layer, or hidden by an opaque directory of this layer.
        if (lstatOrUndefined(join(parent, `.wh.${comps[j]}`)) || opaque) decided = {kind: 'missing'}
        break
      }
      if (isWhiteoutDevice(st)) {
        decided = {kind: 'missing'}
        break
      }
      if (st.isSymbolicLink()) {
        decided = {kind: 'symlink', at: j, target: readlinkSync(here)}
        break
      }
      if (j === comps.length - 1) {
        decided = st.isFile() ? {kind: 'file', path: here} : {kind: 'missing'}
        break
      }
      if (!st.isDirectory()) {
        decided = {kind: 'missing'}
        break
      }
      if (lstatOrUndefined(join(here, OPAQUE))) opaque = true
    }
    if (decided) return decided
  }
  return {kind: 'missing'}
}

/**
 * Reads a file such as /etc/passwd from an image's unpacked layer directories (topmost first)
 * before the rootfs is mounted: `.wh.NAME` whiteouts, `.wh..wh..opq` opaque directories and
 * overlayfs 0:0 whiteout devices hide what lies below; symlinks are resolved inside the rootfs,
 * never on the host. Returns undefined when the file does not exist; a file larger than
 * `maxBytes` (default MAX_ID_FILE_BYTES) is one clear error, never read whole.
 */
export function readRootfsFile(layerDirs: string[], path: string, maxBytes = MAX_ID_FILE_BYTES): string | undefined {
  let comps = clampJoin([], splitPath(path))
  for (let hops = 0; hops < 40; hops++) {
    if (comps.length === 0) return undefined
    const found = lookupInLayers(layerDirs, comps)
    if (found.kind === 'missing') return undefined
    if (found.kind === 'file') return readBounded(found.path, path, maxBytes)
    const rest = comps.slice(found.at + 1)
    const targetComps = splitPath(found.target)
    const base = found.target.startsWith('/') ? [] : comps.slice(0, found.at)
    comps = clampJoin(clampJoin(base, targetComps), rest)
  }
  return undefined
}

function readBounded(hostPath: string, imagePath: string, maxBytes: number): string | undefined {
  let fd: number
  try {
    fd = openSync(hostPath, 'r')
  } catch {
    return undefined
  }
  try {
    const size = fstatSync(fd).size
    if (size > maxBytes) throw new UsageError(`the image's ${imagePath} is larger than ${maxBytes} bytes: refusing to read it`)
    const buf = Buffer.alloc(size)
    let off = 0
    while (off < size) {
      const n = readSync(fd, buf, off, size - off, off)
      if (n === 0) break
      off += n
    }
    return buf.subarray(0, off).toString('utf8')
  } catch (err) {
    if (err instanceof UsageError) throw err
    return undefined
  } finally {
    closeSync(fd)
  }
}
