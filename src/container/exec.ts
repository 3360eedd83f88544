import {spawn} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {readFileSync, rmSync} from 'node:fs'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {CommandNotFoundError, CommandNotInvokableError, ConflictError, RuntimeError} from '../errors.js'
import {requireBinary} from '../runtime/binaries.js'
import {resolveRuntime} from '../runtime/runtime.js'
import {readRootfsFile, resolveUser} from '../spec/user.js'
import {type ContainerRecord, containerPaths, readState} from './record.js'
import {lowerDirs} from '../store/layers.js'
import {containerStatus} from './status.js'

export interface ExecOptions {
  args: string[]
  tty: boolean
  interactive: boolean
  detach: boolean
  env: string[]
  workdir?: string
  user?: string
}

/** runc wraps its errors as `time=".." level=error msg="..."`: the message, unwrapped. */
export function runtimeErrorMessage(line: string): string | undefined {
  const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(line)
  if (m) return m[1]!.replace(/\\"/g, '"').replace(/\\\\/g, '\\')
  if (/^(runc|crun|exec failed|.*executable file not found)/.test(line)) return line
  return undefined
}

export function errorForRuntimeMessage(message: string): Error {
  if (/executable file not found|no such file or directory/i.test(message)) return new CommandNotFoundError(message)
  if (/permission denied|exec format error|is a directory/i.test(message)) return new CommandNotInvokableError(message)
  return new RuntimeError(message)
}

/**
 * docker exec: joins the shim's user and mount namespaces (where the rootfs mount and runc's view
 * live) and runs `runtime exec` in the foreground. For -t, runc allocates the pty and relays the
 * terminal itself. Returns the process's exit code.
 */
export async function execInContainer(ctx: Context, rec: ContainerRecord, opts: ExecOptions): Promise<number> {
  if (!containerStatus(ctx, rec).running) throw new ConflictError(`container ${rec.name} is not running`)
  const state = readState(ctx, rec.id)
  const runtime = resolveRuntime(ctx, rec.runtime)
  const nsenter = requireBinary('nsenter', 'install util-linux')
  const args = ['--target', String(state.shimPid), '--user', '--mount', '--', runtime.path, ...runtime.globalArgs]
  // A detached process inherits the runtime's stdio: give it /dev/null (output is discarded, like
  // docker) and read the runtime's errors from its log file instead of a pipe the process would keep open.
  const logFile = opts.detach ? join(containerPaths(ctx, rec.id).runDir, `exec-${randomBytes(6).toString('hex')}.log`) : undefined
  if (logFile) args.push('--log', logFile, '--log-format', 'json')
  args.push('exec')
  if (opts.tty) args.push('--tty')
  if (opts.detach) args.push('--detach')
  for (const e of opts.env) {
    const [key] = e.split('=')
    if (e.includes('=')) args.push('--env', e)
    else if (process.env[key!] !== undefined) args.push('--env', `${key}=${process.env[key!]}`)
  }
  if (opts.workdir) args.push('--cwd', opts.workdir)
  if (opts.user) {
    const paths = containerPaths(ctx, rec.id)
    const layers = [paths.upper, ...(await lowerDirs(ctx.store, rec.diffIds))]
    const u = resolveUser(opts.user, {passwd: readRootfsFile(layers, '/etc/passwd'), group: readRootfsFile(layers, '/etc/group')})
    args.push('--user', `${u.uid}:${u.gid}`)
    for (const g of u.additionalGids ?? []) args.push('--additional-gids', String(g))
  }
  args.push(rec.id, ...opts.args)
  if (logFile) return execDetached(nsenter, args, logFile)

  const child = spawn(nsenter, args, {stdio: [opts.interactive ? 'inherit' : 'ignore', 'inherit', 'pipe']})
  let failure: string | undefined
  let partial = ''
  child.stderr!.on('data', (chunk: Buffer) => {
    const lines = (partial + chunk.toString('utf8')).split('\n')
    partial = lines.pop() ?? ''
    for (const line of lines) {
      const msg = runtimeErrorMessage(line)
      if (msg) failure ??= msg
      else process.stderr.write(line + '\n')
    }
  })
  const code = await new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (c, sig) => resolve(c ?? 128 + (sig ? 9 : 0)))
  })
  if (partial) {
    const msg = runtimeErrorMessage(partial)
    if (msg) failure ??= msg
    else process.stderr.write(partial)
  }
  if (failure && code !== 0) throw errorForRuntimeMessage(failure)
  return code
}

/** runc exec --detach: waits for runc itself (not the process), errors from runc's JSON log. */
async function execDetached(nsenter: string, args: string[], logFile: string): Promise<number> {
  try {
    const child = spawn(nsenter, args, {stdio: 'ignore'})
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('exit', (c, sig) => resolve(c ?? 128 + (sig ? 9 : 0)))
    })
    if (code === 0) return 0
    let failure: string | undefined
    try {
      for (const line of readFileSync(logFile, 'utf8').split('\n')) {
        try {
          const entry = JSON.parse(line) as {level?: string; msg?: string}
          if ((entry.level === 'error' || entry.level === 'fatal') && entry.msg) failure ??= entry.msg
        } catch {
          // not JSON
        }
      }
    } catch {
      // no log written
    }
    throw failure ? errorForRuntimeMessage(failure) : new RuntimeError(`the runtime's exec failed (exit code ${code})`)
  } finally {
    rmSync(logFile, {force: true})
  }
}
