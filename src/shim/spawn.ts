import {spawn} from 'node:child_process'
import {closeSync, openSync, readFileSync} from 'node:fs'
import type {Readable} from 'node:stream'
import {RuntimeError} from '../errors.js'

/** The healthcheck the shim runs (shim/PROTOCOL.md, Healthcheck): argv, timers in ms, the State.Health file. */
export interface ShimHealth {
  stateFile: string
  args: string[]
  intervalMs: number
  timeoutMs: number
  startPeriodMs: number
  startIntervalMs: number
  retries: number
}

export interface SpawnShimOptions {
  /** The user-namespace prefix: file and args (ending with `--`) that run a program in the namespace. */
  userns: {file: string; args: string[]}
  shimPath: string
  id: string
  bundle: string
  runtime: string
  runtimeArgs: string[]
  mountProgram?: string
  mountArgs?: string[]
  rootfs: string
  stateDir: string
  logFile: string
  /** Rotate the log once it would grow past maxSize bytes, keeping maxFiles files in all. */
  logRotation?: {maxSize: number; maxFiles: number}
  /** The events journal the shim appends the `die` event to, and that event's attributes (K=V). */
  events?: {file: string; attrs: string[]}
  exitFile: string
  health?: ShimHealth
  tty: boolean
  stdin: boolean
  /** Program and arguments run (detached, not waited for) after the container exited. */
  exitCommand?: string[]
  /** File that receives the shim's own stderr (its diagnostics). */
  diagnosticsFile: string
  /** The restart policy (shim/PROTOCOL.md: no, on-failure[:MAX], always) and where the shim records restarts. */
  restart?: {policy: string; file: string}
  /** The shim holds the container's network namespace (the bundle asks for none): it outlives restarts. */
  ownNetns?: boolean
  /** How long the shim waits for START before removing the container (shim default 60 s). */
  startTimeoutSeconds?: number
  /** How long to wait for the shim's `created`/`error` line (default 120 s). */
  timeoutMs?: number
  /**
   * Called with the shim's pid as soon as it is spawned, before it reports: the caller records
   * it, so that a CLI killed while waiting leaves a shim others can find (and stop).
   */
  onSpawned?: (shimPid: number) => Promise<void>
  /**
   * With `ownNetns`: called as soon as the shim's network namespace exists (its `netns` line),
   * while it still mounts the rootfs and creates the container, so that the network is attached
   * meanwhile.
   */
  onNetns?: (shimPid: number) => void
}

/**
 * The shim's report: the container is created, or the runtime's (or the shim's) error line,
 * verbatim: what it means is decided by the runtime Task (src/runtime/classify.ts).
 */
export type SpawnedShim = {shimPid: number; containerPid: number} | {error: string}

/** The shim's argv (after the shim path) for these options; its sync fd is 3. */
export function shimArgs(o: SpawnShimOptions): string[] {
  const args = ['--id', o.id, '--bundle', o.bundle, '--runtime', o.runtime]
  for (const a of o.runtimeArgs) args.push('--runtime-arg', a)
  if (o.mountProgram) {
    args.push('--mount-program', o.mountProgram)
    for (const a of o.mountArgs ?? []) args.push('--mount-arg', a)
  }
  args.push('--rootfs', o.rootfs, '--state-dir', o.stateDir, '--log', o.logFile, '--exit-file', o.exitFile)
  if (o.logRotation) args.push('--log-max-size', String(o.logRotation.maxSize), '--log-max-files', String(o.logRotation.maxFiles))
  if (o.health) {
    const h = o.health
    args.push('--health-file', h.stateFile)
    for (const a of h.args) args.push('--health-arg', a)
    args.push('--health-interval', String(h.intervalMs), '--health-timeout', String(h.timeoutMs), '--health-retries', String(h.retries))
    args.push('--health-start-period', String(h.startPeriodMs), '--health-start-interval', String(h.startIntervalMs))
  }
  if (o.events) {
    args.push('--events-file', o.events.file)
    for (const a of o.events.attrs) args.push('--events-attr', a)
  }
  if (o.tty) args.push('--tty')
  if (o.stdin) args.push('--stdin')
  if (o.exitCommand && o.exitCommand.length > 0) {
    const [cmd, ...rest] = o.exitCommand
    args.push('--exit-command', cmd!)
    for (const a of rest) args.push('--exit-arg', a)
  }
  if (o.restart) args.push('--restart', o.restart.policy, '--restart-file', o.restart.file)
  if (o.ownNetns) args.push('--own-netns')
  args.push('--sync-fd', '3')
  if (o.startTimeoutSeconds !== undefined) args.push('--start-timeout', String(Math.max(1, Math.ceil(o.startTimeoutSeconds))))
  return args
}

/**
 * Starts a container's shim inside the user namespace, detached (a session leader that outlives
 * the CLI), and waits for it to report `created <pid>` (the container is created, not started)
 * or `error <message>` on fd 3. The shim's failures to report at all are RuntimeErrors.
 */
export async function spawnShim(o: SpawnShimOptions): Promise<SpawnedShim> {
  const diag = openSync(o.diagnosticsFile, 'a', 0o600)
  let child
  try {
    child = spawn(o.userns.file, [...o.userns.args, o.shimPath, ...shimArgs(o)], {
      detached: true,
      stdio: ['ignore', 'ignore', diag, 'pipe'],
    })
  } finally {
    closeSync(diag)
  }
  const sync = child.stdio[3] as Readable
  // Listen before anything is awaited: a shim that fails at once (e.g. its mount refused) may
  // exit and close fd 3 while onSpawned still runs, and an exit or a report nobody was listening
  // for is gone (Node resumes the unread pipe of a child that exited).
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit code ${code}`))
  })
  let abandon: (err: Error) => void = () => {}
  const reported = new Promise<string | undefined>((resolve, reject) => {
    let text = ''
    let done = false
    const finish = (value: string | undefined, err?: Error) => {
      if (done) return
      done = true
      clearTimeout(timer)
      sync.destroy()
      if (err) reject(err)
      else resolve(value)
    }
    abandon = (err) => finish(undefined, err)
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      finish(undefined, new RuntimeError(`the shim did not report within ${(o.timeoutMs ?? 120_000) / 1000} s`))
    }, o.timeoutMs ?? 120_000)
    sync.setEncoding('utf8')
    sync.on('data', (chunk: string) => {
      text += chunk
      for (let nl = text.indexOf('\n'); nl >= 0 && !done; nl = text.indexOf('\n')) {
        const line = text.slice(0, nl)
        text = text.slice(nl + 1)
        // notes before the report (shim/PROTOCOL.md): the network namespace is there
        if (line === 'netns') {
          if (child.pid !== undefined) o.onNetns?.(child.pid)
          continue
        }
        finish(line)
      }
    })
    sync.on('error', () => {})
    sync.on('close', () => finish(text.length > 0 ? text : undefined))
    child.on('error', (err) => finish(undefined, new RuntimeError(`cannot run ${o.userns.file}: ${err.message}`, {cause: err})))
  })
  reported.catch(() => {}) // handled where awaited below; not "unhandled" while onSpawned runs
  if (o.onSpawned && child.pid !== undefined) {
    try {
      await o.onSpawned(child.pid)
    } catch (err) {
      child.kill('SIGKILL')
      abandon(err instanceof Error ? err : new Error(String(err)))
      throw err
    }
  }
  const line = await reported
  const shimPid = child.pid
  child.unref()

  if (line === undefined || shimPid === undefined) {
    const how = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('no report'), 2000).unref())])
    const why = lastLine(readOr(o.diagnosticsFile))
    throw new RuntimeError(`the container's shim failed (${how})${why ? `: ${why}` : ''}`)
  }
  const created = /^created (\d+)$/.exec(line.trim())
  if (created) return {shimPid, containerPid: Number(created[1])}
  if (line.startsWith('error ')) {
    // The shim now deletes the container and unmounts: let it finish, so nothing is left behind
    // once the CLI reports the error.
    let timer: NodeJS.Timeout | undefined
    await Promise.race([exited, new Promise<void>((r) => (timer = setTimeout(r, 10_000)))])
    clearTimeout(timer)
    return {error: line.slice('error '.length).trim()}
  }
  throw new RuntimeError(`unexpected message from the container's shim: ${line.slice(0, 200)}`)
}

function readOr(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

function lastLine(text: string): string {
  return (
    text
      .split('\n')
      .map((l) => l.trim())
      .filter(Boolean)
      .at(-1) ?? ''
  )
}
