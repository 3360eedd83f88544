/**
 * The container half of `cp`, run inside the container's user namespace (as its root, so any
 * owner can be read and set) by src/container/copy.ts: with the container's mount namespace when
 * it runs, or in a fresh one where it mounts the rootfs itself when it does not.
 *
 *   node cp-main.js '{"op":"get","root":R,"path":P,"follow":bool}'        tar of P on stdout
 *   node cp-main.js '{"op":"put","root":R,"path":D,"src":{isDir,contentsOnly},"owner":O}'   tar on stdin, docker's rules
 *   node cp-main.js '{"op":"put-raw","root":R,"path":D,"owner":O}'        tar on stdin into the directory D
 * plus `"mount":{"program","args"}` to mount R first (and unmount it at the end).
 * Errors: one line on stderr; exit 2 for the user's mistakes (no such path, ...), 1 otherwise.
 */
import {execFileSync} from 'node:child_process'
import {lstatSync, statSync} from 'node:fs'
import {posix} from 'node:path'
import {CtrError, UsageError} from '../errors.js'
import {extractArchive} from './archive.js'
import {packTree} from './archive.js'
import {resolveInRoot} from './in-root.js'
import {planCopy, type SourceInfo} from './plan.js'

interface Request {
  op: 'get' | 'put' | 'put-raw'
  root: string
  path: string
  follow?: boolean
  src?: SourceInfo
  owner?: 'keep' | 'root'
  mount?: {program: string; args: string[]}
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory()
  } catch {
    return false
  }
}

async function get(req: Request): Promise<void> {
  const wantsDir = /\/\.?$/.test(req.path)
  const host = resolveInRoot(req.root, req.path, req.follow === true || wantsDir)
  let st
  try {
    st = lstatSync(host)
  } catch {
    throw new UsageError(`could not find the file ${req.path} in the container`)
  }
  if (wantsDir && !st.isDirectory()) throw new UsageError(`not a directory: ${req.path}`)
  const top = posix.basename(posix.normalize(`/${req.path}`)) || '.'
  await packTree(host, top === '.' ? '.' : top, process.stdout)
}

async function put(req: Request): Promise<void> {
  const host = resolveInRoot(req.root, req.path, true)
  if (req.op === 'put-raw') {
    if (!isDir(host)) throw new UsageError(`destination ${req.path} must be a directory`)
    await extractArchive(process.stdin, {dir: req.path, strip: false}, {root: req.root, owner: req.owner ?? 'root'})
    return
  }
  let exists = true
  try {
    lstatSync(host)
  } catch {
    exists = false
  }
  const parent = resolveInRoot(req.root, posix.dirname(posix.normalize(`/${req.path}`)), true)
  const plan = planCopy(req.src!, {path: req.path, exists, isDir: exists && isDir(host), parentIsDir: isDir(parent)})
  await extractArchive(process.stdin, plan, {root: req.root, owner: req.owner ?? 'root'})
}

const req = JSON.parse(process.argv[2] ?? '{}') as Request
let mounted = false

/** The rootfs this helper mounted is unmounted on every way out (the fuse daemon would keep it otherwise). */
function unmount(): void {
  if (!mounted) return
  mounted = false
  try {
    execFileSync('umount', [req.root], {stdio: 'ignore'})
  } catch {
    try {
      execFileSync('umount', ['-l', req.root], {stdio: 'ignore'})
    } catch {
      // nothing more to do
    }
  }
}

// the CLI stops reading when the destination refuses the copy: not an error of ours
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') return
  unmount()
  process.exit(1)
})
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGPIPE'] as const) {
  process.on(sig, () => {
    unmount()
    process.exit(1)
  })
}

async function main(): Promise<number> {
  if (req.mount) {
    execFileSync(req.mount.program, req.mount.args, {stdio: ['ignore', 'ignore', 'inherit']})
    mounted = true
  }
  try {
    if (req.op === 'get') await get(req)
    else await put(req)
    return 0
  } catch (err) {
    process.stderr.write(`${(err as Error).message.split('\n')[0]}\n`)
    return err instanceof CtrError || (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR' ? 2 : 1
  } finally {
    unmount()
  }
}

process.exitCode = await main()
