/**
 * docker cp for a container: the container side runs as root of the container's user namespace
 * (copy/cp-main.ts) — in the running container's mount namespace (nsenter to its shim), or for a
 * stopped one in a fresh mount namespace where it mounts the rootfs with the container's driver — and the
 * host side packs or extracts here, as the user. Paths in the container resolve in its root.
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, lstatSync, realpathSync, statSync} from 'node:fs'
import {join, posix, resolve as resolvePath} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import type {Context} from '../context.js'
import {CtrError, NotFoundError, RuntimeError, UsageError} from '../errors.js'
import {extractArchive, type IdMap, packTree} from '../copy/archive.js'
import {planCopy} from '../copy/plan.js'
import {rootfsMountCommand} from './rootfs-mount.js'
import {requireBinary} from '../runtime/binaries.js'
import {userNsArgv} from '../userns/exec.js'
import {packageRoot} from '../userns/helpers.js'
import {currentMapping, type IdMapping} from '../userns/idmap.js'
import {type ContainerRecord, containerPaths} from './record.js'
import {containerStatus} from './status.js'

function cpMainPath(): string {
  const here = fileURLToPath(new URL('../copy/cp-main.js', import.meta.url))
  if (existsSync(here)) return here
  return join(packageRoot, 'dist', 'copy', 'cp-main.js')
}

type HelperRequest = {op: 'get' | 'put' | 'put-raw'; path: string; follow?: boolean; src?: {isDir: boolean; contentsOnly: boolean}; owner?: 'keep' | 'root'}

/** Starts the container-side helper for `req`; stdin and stdout are pipes. */
async function startHelper(ctx: Context, rec: ContainerRecord, req: HelperRequest): Promise<ChildProcess> {
  const paths = containerPaths(ctx, rec.id)
  const s = containerStatus(ctx, rec)
  const node = process.execPath
  let file: string
  let args: string[]
  if (s.running && s.shimPid) {
    file = requireBinary('nsenter', 'install util-linux')
    args = ['--target', String(s.shimPid), '--user', '--mount', '--', node, cpMainPath(), JSON.stringify({...req, root: paths.merged})]
  } else {
    const mount = await rootfsMountCommand(ctx, rec)
    const argv = userNsArgv(currentMapping(), [node, cpMainPath(), JSON.stringify({...req, root: paths.merged, mount})], {mount: true})
    file = argv.file
    args = argv.args
  }
  return spawn(file, args, {stdio: ['pipe', 'pipe', 'pipe']})
}

/** The helper's end: its exit, with its error line as a typed error. */
function helperDone(child: ChildProcess): Promise<void> {
  let stderr = ''
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => {
      if (code === 0) return resolve()
      const line = stderr.trim().split('\n').at(-1) || `exit code ${code}`
      reject(code === 2 ? (/could not find/.test(line) ? new NotFoundError(line) : new UsageError(line)) : new RuntimeError(`cp: ${line}`))
    })
  })
}

/** Host ids to container ids through the user namespace's mapping (unmapped ones become nobody, 65534). */
export function hostToContainer(mapping: {uids: IdMapping[]; gids: IdMapping[]}): IdMap {
  const one = (maps: IdMapping[], id: number) => {
    const m = maps.find((x) => id >= x.hostID && id < x.hostID + x.size)
    return m ? m.containerID + (id - m.hostID) : 65534
  }
  return (uid, gid) => [one(mapping.uids, uid), one(mapping.gids, gid)]
}

export interface CopyOutOptions {
  /** -L: follow a symlink as the source's last component. */
  follow: boolean
  /** For `-`: where the tar goes. */
  stdout: Writable
}

/** docker cp CTR:SRC DEST (DEST `-`: a tar stream). Ownership on the host is the user's (a rootless user cannot chown). */
export async function copyFromContainer(ctx: Context, rec: ContainerRecord, src: string, dest: string, opts: CopyOutOptions): Promise<void> {
  const child = await startHelper(ctx, rec, {op: 'get', path: src, follow: opts.follow})
  const done = helperDone(child)
  child.stdin!.end()
  if (dest === '-') {
    child.stdout!.pipe(opts.stdout, {end: false})
    await done
    return
  }
  const contentsOnly = /\/\.$/.test(src)
  const destAbs = resolvePath(dest) + (dest.endsWith('/') ? '/' : '')
  let exists = true
  let isDir = false
  try {
    isDir = statSync(destAbs).isDirectory()
  } catch {
    exists = lstatSync(destAbs, {throwIfNoEntry: false}) !== undefined
  }
  const parentIsDir = (() => {
    try {
      return statSync(posix.dirname(destAbs.replace(/\/+$/, ''))).isDirectory()
    } catch {
      return false
    }
  })()
  const extracting = extractArchive(child.stdout as Readable, (first) => planCopy({isDir: first.type === 'directory', contentsOnly}, {path: destAbs, exists, isDir, parentIsDir}), {owner: 'none'})
  // a destination the source cannot go to: the helper is stopped, the reason is ours
  let refused = false
  const failed = extracting.catch((err: unknown) => {
    if (err instanceof CtrError && child.exitCode === null) {
      refused = true
      // closing the pipe ends the helper (EPIPE), which unmounts what it mounted
      child.stdout!.destroy()
      child.kill('SIGTERM')
    }
    throw err
  })
  const [helper, extracted] = await Promise.allSettled([done, failed])
  if (refused && extracted.status === 'rejected') throw extracted.reason
  // the helper's error (no such file) explains an empty archive better than the extractor
  if (helper.status === 'rejected') throw helper.reason
  if (extracted.status === 'rejected') throw extracted.reason
}

export interface CopyInOptions {
  /** -a: keep the owners (host files: mapped through the user namespace; a tar: its ids). */
  archive: boolean
  /** -L: follow a symlink as the source's last component. */
  follow: boolean
  /** For `-`: the tar stream. */
  stdin: Readable
}

/** docker cp SRC CTR:DEST (SRC `-`: a tar stream extracted into the directory DEST). */
export async function copyToContainer(ctx: Context, rec: ContainerRecord, src: string, dest: string, opts: CopyInOptions): Promise<void> {
  const owner = opts.archive ? 'keep' : 'root'
  if (src === '-') {
    const child = await startHelper(ctx, rec, {op: 'put-raw', path: dest, owner})
    const done = helperDone(child)
    child.stdin!.on('error', () => {})
    opts.stdin.pipe(child.stdin!)
    child.stdout!.resume()
    await done
    return
  }
  const abs = resolvePath(src)
  const contentsOnly = /\/\.$/.test(src)
  let st
  try {
    st = (opts.follow || /\/\.?$/.test(src) ? statSync : lstatSync)(abs)
  } catch {
    throw new NotFoundError(`no such file or directory: ${src}`)
  }
  const child = await startHelper(ctx, rec, {op: 'put', path: dest, src: {isDir: st.isDirectory(), contentsOnly}, owner})
  const done = helperDone(child)
  child.stdin!.on('error', () => {})
  child.stdout!.resume()
  const top = posix.basename(abs) || '.'
  const packing = packTree(opts.follow ? realTarget(abs) : abs, top, child.stdin!, opts.archive ? hostToContainer(currentMapping()) : undefined)
  const [helper, packed] = await Promise.allSettled([done, packing])
  if (helper.status === 'rejected') throw helper.reason
  if (packed.status === 'rejected') throw packed.reason
}

function realTarget(path: string): string {
  try {
    return realpathSync(path)
  } catch {
    return path
  }
}
