import {chmodSync, lstatSync, mkdirSync} from 'node:fs'
import {UnsafePathError} from '../errors.js'

/**
 * Path safety for unpacking untrusted layers (umoci's rules): nothing is ever created, changed or
 * removed outside the layer directory.
 *
 * - Entry names are normalized lexically: a leading `/` is stripped (as docker does), `.` and
 *   empty components are dropped, `..` pops a component; a `..` that would climb above the layer
 *   root is refused. The kernel never sees a `..` from a tarball.
 * - Every PARENT component of a path is checked with lstat inside the layer directory: a symlink
 *   there is refused (we do not resolve it inside the root like securejoin does; refusing is
 *   simpler and real layers never need it, because each layer is unpacked into its own empty
 *   directory, so a symlink can only come from the same tarball). A missing parent is created as
 *   a directory (mode 0755), a parent that is not a directory is refused.
 * - The final component is never followed: files are opened with O_CREAT|O_EXCL|O_NOFOLLOW after
 *   removing whatever was there, metadata of directories is set through O_DIRECTORY|O_NOFOLLOW
 *   descriptors, and symlinks are stored as-is (they are resolved in the container's root by the
 *   runtime, never by us).
 */

/** Longest entry name or link target accepted, in bytes (PATH_MAX). */
export const MAX_NAME_BYTES = 4096

// The unpacker's refusal (src/errors.ts, with every other error class); re-exported here where
// the unpacker has always imported it from.
export {UnsafePathError}

/**
 * The components of a tar entry name (or hardlink target) relative to the layer root; [] is the
 * root itself. Throws UnsafePathError for names that escape, are too long or contain NUL.
 */
export function normalizeEntryPath(name: string, what = 'name'): string[] {
  if (Buffer.byteLength(name) > MAX_NAME_BYTES) {
    throw new UnsafePathError(`${what} is longer than ${MAX_NAME_BYTES} bytes`)
  }
  if (name.includes('\0')) throw new UnsafePathError(`${what} contains a NUL byte`)
  const out: string[] = []
  for (const part of name.split('/')) {
    if (part === '' || part === '.') continue
    if (part === '..') {
      if (out.length === 0) throw new UnsafePathError(`${what} ${quote(name)} escapes the layer root`)
      out.pop()
      continue
    }
    out.push(part)
  }
  return out
}

/** A name quoted for an error message: JSON-escaped and cut to a readable length. */
export function quote(name: string): string {
  const cut = name.length > 200 ? `${name.slice(0, 100)}...${name.slice(-60)}` : name
  return JSON.stringify(cut)
}

/**
 * The layer directory being filled: checks and creates parent directories, remembering which
 * relative directories are known to be real directories so each is lstat'ed once.
 */
export class LayerRoot {
  private readonly knownDirs = new Set<string>()

  /** `root` with one trailing slash: parts are appended to it as they are. */
  private readonly prefix: string

  constructor(readonly root: string) {
    this.prefix = root.endsWith('/') ? root : `${root}/`
  }

  /** The absolute path of normalized `parts` (see normalizeEntryPath: no `.`, `..` or empty component, so no path.join needed). */
  abs(parts: string[]): string {
    return parts.length === 0 ? this.root : this.prefix + parts.join('/')
  }

  /**
   * Makes sure every parent of `parts` is a real directory inside the root (no symlinks).
   * With create=false a missing parent is an error (used for hardlink targets).
   */
  ensureParents(parts: string[], create = true): void {
    if (parts.length < 2) return
    // most entries go into a directory already checked: one lookup for the whole parent
    if (this.knownDirs.has(parts.length === 2 ? parts[0]! : parts.slice(0, -1).join('/'))) return
    let rel = ''
    for (let i = 0; i < parts.length - 1; i++) {
      rel = rel ? `${rel}/${parts[i]}` : parts[i]!
      if (this.knownDirs.has(rel)) continue
      const abs = this.prefix + rel
      const st = lstatSync(abs, {throwIfNoEntry: false})
      if (!st) {
        if (!create) throw new UnsafePathError(`${quote(rel)} does not exist in this layer`)
        mkdirSync(abs, {mode: 0o755})
        chmodSync(abs, 0o755) // whatever the umask
        this.knownDirs.add(rel)
        continue
      }
      if (st.isSymbolicLink()) throw new UnsafePathError(`path component ${quote(rel)} is a symlink: refusing to write through it`)
      if (!st.isDirectory()) throw new UnsafePathError(`path component ${quote(rel)} is not a directory`)
      this.knownDirs.add(rel)
    }
  }

  /** Records that `rel` is now a real directory. */
  markDir(rel: string): void {
    this.knownDirs.add(rel)
  }

  /** Forgets `rel` and everything under it (it was removed or replaced). */
  forget(rel: string): void {
    const prefix = `${rel}/`
    for (const d of this.knownDirs) if (d === rel || d.startsWith(prefix)) this.knownDirs.delete(d)
  }
}
