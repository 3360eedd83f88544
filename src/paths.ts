import {chmodSync, lstatSync, mkdirSync, statSync, type Stats} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join, resolve, sep} from 'node:path'
import {UnsafeDirectoryError} from './errors.js'

/**
 * Where ctr-ts keeps things. The persistent store (images, layers, containers) lives under the
 * XDG data directory; sockets, runtime state and pid files under XDG_RUNTIME_DIR (or a private
 * directory in /tmp when it is not set). CTR_TS_ROOT / CTR_TS_RUNROOT override both, and the
 * configuration's `storage.root` overrides the data directory.
 */
export function defaultRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CTR_TS_ROOT) return env.CTR_TS_ROOT
  const data = env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share')
  return join(data, 'ctr-ts')
}

export function defaultRunRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.CTR_TS_RUNROOT) return env.CTR_TS_RUNROOT
  const uid = process.getuid?.() ?? 0
  const xdg = env.XDG_RUNTIME_DIR
  if (xdg && isOwnedDir(xdg, uid)) return join(xdg, 'ctr-ts')
  return join(tmpdir(), `ctr-ts-run-${uid}`)
}

function isOwnedDir(path: string, uid: number): boolean {
  try {
    const st = statSync(path)
    return st.isDirectory() && st.uid === uid
  } catch {
    return false
  }
}

/** The layout of the store; every module asks here instead of joining paths itself. */
export function storeLayout(root: string) {
  return {
    root,
    blobs: join(root, 'blobs', 'sha256'),
    ingest: join(root, 'ingest'),
    images: join(root, 'images'),
    layers: join(root, 'layers'),
    containers: join(root, 'containers'),
    names: join(root, 'names'),
    locks: join(root, 'locks'),
    leases: join(root, 'leases'),
    volumes: join(root, 'volumes'),
    networks: join(root, 'networks'),
    tmp: join(root, 'tmp'),
    /** The events journal (src/events/journal.ts): JSON lines, appended by the CLI and the shims. */
    events: join(root, 'events.jsonl'),
    buildCache: join(root, 'build-cache'),
  }
}
export type StoreLayout = ReturnType<typeof storeLayout>

export function runLayout(runRoot: string) {
  return {
    root: runRoot,
    runc: join(runRoot, 'runc'),
    containers: join(runRoot, 'c'),
    netns: join(runRoot, 'netns'),
    /** Converted seccomp filters (spec/seccomp.ts seccompFor's cache). */
    seccomp: join(runRoot, 'seccomp'),
  }
}
export type RunLayout = ReturnType<typeof runLayout>

export function ensureDir(path: string, mode = 0o700): string {
  mkdirSync(path, {recursive: true, mode})
  return path
}

/**
 * Creates (or accepts) a directory that only this user controls, for state that other local users
 * must not reach: attach sockets, runc's state, pid files. The directory itself must be owned by
 * the user, be a real directory (not a symlink) and not be writable by group or others; every
 * directory on the way to it must be owned by root or the user, and one writable by others must
 * have the sticky bit (like /tmp), so nobody else can rename or replace what lies below it.
 * Missing directories are created with mode 0700. Throws UnsafeDirectoryError with one line.
 */
export function ensurePrivateDir(path: string, what = 'runtime directory', uid = process.getuid?.() ?? 0): string {
  const parts = resolve(path).split(sep).filter(Boolean)
  let current = ''
  parts.forEach((part, i) => {
    current += sep + part
    const last = i === parts.length - 1
    let st = lstatOrUndefined(current)
    if (!st) {
      try {
        mkdirSync(current, {mode: 0o700})
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      }
      st = lstatSync(current)
    }
    checkComponent(current, st, uid, last, what)
  })
  const st = lstatSync(current)
  // ours and not writable by others: narrow what others may read too
  if ((st.mode & 0o077) !== 0) chmodSync(current, 0o700)
  return current
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

function checkComponent(path: string, st: Stats, uid: number, last: boolean, what: string): void {
  const trusted = (owner: number) => owner === 0 || owner === uid
  // group write counts only for a group other than the user's own (user private groups)
  const othersWrite = (s: Stats) => (s.mode & 0o002) !== 0 || ((s.mode & 0o020) !== 0 && s.gid !== (process.getgid?.() ?? 0))
  const advice = what === 'runtime directory'
    ? 'set XDG_RUNTIME_DIR or CTR_TS_RUNROOT to a directory only you can write, or remove it'
    : 'choose a directory only you can write, or remove it'
  if (st.isSymbolicLink()) {
    if (last) throw new UnsafeDirectoryError(`${what} ${path} is a symbolic link: ${advice}`)
    if (!trusted(st.uid)) throw new UnsafeDirectoryError(`${what} path ${path} is a symbolic link owned by uid ${st.uid}: ${advice}`)
    st = statSync(path)
  }
  if (!st.isDirectory()) throw new UnsafeDirectoryError(`${what} path ${path} is not a directory: ${advice}`)
  if (last) {
    if (st.uid !== uid) throw new UnsafeDirectoryError(`${what} ${path} belongs to uid ${st.uid}, not to you (uid ${uid}): ${advice}`)
    if (othersWrite(st)) throw new UnsafeDirectoryError(`${what} ${path} is writable by others (mode ${(st.mode & 0o7777).toString(8)}): ${advice}`)
    return
  }
  if (!trusted(st.uid)) throw new UnsafeDirectoryError(`${what} path ${path} belongs to uid ${st.uid}, not to you or root: ${advice}`)
  if (othersWrite(st) && (st.mode & 0o1000) === 0) {
    throw new UnsafeDirectoryError(`${what} path ${path} is writable by others without the sticky bit: ${advice}`)
  }
}
