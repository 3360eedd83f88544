import {spawn} from 'node:child_process'
import {lstatSync} from 'node:fs'
import {join} from 'node:path'

/**
 * Extended attributes from a layer's PAX headers. Only the `user.` namespace is restored (the
 * others need privileges a rootless user does not have, or mean something to the host's security
 * modules), and never the names the overlay drivers keep their own state under: an image could
 * otherwise fake an opaque directory or a file's owner and mode (fuse-overlayfs'
 * `user.fuseoverlayfs.*`, the kernel overlay's `user.overlay.*` in a user namespace).
 */
export interface Xattr {
  name: string
  value: Buffer
}

export interface ParsedXattrs {
  keep: Xattr[]
  /** Attributes present but not restored, with why (for one warning per layer). */
  skipped: Array<{name: string; why: string}>
}

const RESERVED = ['user.fuseoverlayfs.', 'user.overlay.', 'user.containers.']
/** The kernel's limits (XATTR_NAME_MAX, XATTR_SIZE_MAX). */
const MAX_NAME = 255
const MAX_VALUE = 64 * 1024

function check(name: string, value: Buffer, out: ParsedXattrs): void {
  if (!name.startsWith('user.')) return void out.skipped.push({name, why: 'not in the user. namespace'})
  if (RESERVED.some((p) => name.startsWith(p))) return void out.skipped.push({name, why: 'reserved for the overlay driver'})
  if (name.length <= 'user.'.length || name.includes('\0') || Buffer.byteLength(name) > MAX_NAME) return void out.skipped.push({name, why: 'invalid name'})
  if (value.length > MAX_VALUE) return void out.skipped.push({name, why: 'value larger than 64 KiB'})
  out.keep.push({name, value})
}

/**
 * The xattrs of one entry: `SCHILY.xattr.NAME=VALUE` (GNU tar, Docker) and
 * `LIBARCHIVE.xattr.URLENCODED-NAME=BASE64-VALUE` (bsdtar). PAX values reach us decoded as UTF-8:
 * `rawValues` has the SCHILY values' own bytes (read from the archive by tar-end.ts); without
 * them a value that was not valid UTF-8 is skipped rather than restored corrupted.
 */
export function parseXattrs(pax: Record<string, string>, rawValues?: ReadonlyMap<string, Buffer>): ParsedXattrs {
  const out: ParsedXattrs = {keep: [], skipped: []}
  for (const [key, raw] of Object.entries(pax)) {
    if (key.startsWith('SCHILY.xattr.')) {
      const name = key.slice('SCHILY.xattr.'.length)
      // the value's bytes as in the archive (binary values are not UTF-8), when the caller has them
      const bytes = rawValues?.get(name)
      if (bytes !== undefined) check(name, bytes, out)
      else if (raw.includes('\uFFFD')) out.skipped.push({name, why: 'binary value'})
      else check(name, Buffer.from(raw, 'utf8'), out)
    } else if (key.startsWith('LIBARCHIVE.xattr.')) {
      let name: string
      try {
        name = decodeURIComponent(key.slice('LIBARCHIVE.xattr.'.length))
      } catch {
        out.skipped.push({name: key, why: 'invalid name'})
        continue
      }
      check(name, Buffer.from(raw, 'base64'), out)
    }
  }
  return out
}

/** A path or name as setfattr's `--restore` input wants it: bytes outside printable ASCII, `\` and `=` as `\ooo`. */
export function quoteRestorePath(path: string): string {
  let out = ''
  for (const byte of Buffer.from(path, 'utf8')) {
    out += byte <= 0x20 || byte >= 0x7f || byte === 0x5c || byte === 0x3d ? `\\${byte.toString(8).padStart(3, '0')}` : String.fromCharCode(byte)
  }
  return out
}

/** The `getfattr --dump` format that `setfattr --restore` reads, for paths relative to the layer root. */
export function restoreScript(entries: Map<string, Xattr[]>): string {
  let text = ''
  for (const [rel, attrs] of entries) {
    text += `# file: ${quoteRestorePath(rel)}\n`
    for (const a of attrs) text += `${quoteRestorePath(a.name)}=0x${a.value.toString('hex')}\n`
    text += '\n'
  }
  return text
}

/** Whether `rel` is still a regular file or directory reached through real directories only. */
function stillSafe(root: string, rel: string): boolean {
  const parts = rel.split('/')
  try {
    for (let i = 1; i < parts.length; i++) {
      if (!lstatSync(join(root, ...parts.slice(0, i))).isDirectory()) return false
    }
    const st = lstatSync(join(root, ...parts))
    return st.isFile() || st.isDirectory()
  } catch {
    return false
  }
}

/**
 * Sets the collected attributes with ONE `setfattr -h --restore=-` run in the layer root (Node
 * has no setxattr). Paths are checked again first: only regular files and directories reached
 * through real directories, so nothing outside the layer is touched. Resolves to a warning to
 * show, or undefined when everything was restored.
 */
export async function restoreXattrs(root: string, entries: Map<string, Xattr[]>): Promise<string | undefined> {
  const safe = new Map([...entries].filter(([rel]) => rel !== '' && stillSafe(root, rel)))
  if (safe.size === 0) return undefined
  const result = await new Promise<{code: number | null; stderr: string; missing: boolean}>((resolve) => {
    const child = spawn('setfattr', ['-h', '--restore=-'], {cwd: root, stdio: ['pipe', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s
    })
    child.on('error', (err: NodeJS.ErrnoException) => resolve({code: null, stderr: err.message, missing: err.code === 'ENOENT'}))
    child.on('close', (code) => resolve({code, stderr, missing: false}))
    child.stdin.on('error', () => {}) // a child that died early is reported by 'close'
    child.stdin.end(restoreScript(safe))
  })
  if (result.missing) return `extended attributes of ${safe.size} entr${safe.size > 1 ? 'ies' : 'y'} not restored: setfattr not found (Debian package attr)`
  if (result.code !== 0) {
    const first = result.stderr.split('\n').find((l) => l.trim()) ?? `exit code ${result.code}`
    return `some extended attributes not restored: ${first.trim()}`
  }
  return undefined
}
