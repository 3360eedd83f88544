import {mkdirSync, statSync} from 'node:fs'
import {homedir, tmpdir} from 'node:os'
import {join} from 'node:path'

/**
 * Where ctr-ts keeps things. The persistent store (images, layers, containers) lives under the
 * XDG data directory; sockets, runtime state and pid files under XDG_RUNTIME_DIR (or a private
 * directory in /tmp when it is not set). CTR_TS_ROOT / CTR_TS_RUNROOT override both, and the
 * configuration's `storage.root` overrides the data directory.
 */
export interface Paths {
  /** Persistent store root. */
  root: string
  /** Runtime state root (short path: unix sockets live under it). */
  runRoot: string
}

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
    tmp: join(root, 'tmp'),
  }
}
export type StoreLayout = ReturnType<typeof storeLayout>

export function runLayout(runRoot: string) {
  return {
    root: runRoot,
    runc: join(runRoot, 'runc'),
    containers: join(runRoot, 'c'),
  }
}
export type RunLayout = ReturnType<typeof runLayout>

export function ensureDir(path: string, mode = 0o700): string {
  mkdirSync(path, {recursive: true, mode})
  return path
}
