import {spawn, type StdioOptions} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync, readFileSync, readlinkSync, rmSync, watch} from 'node:fs'
import {mkdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {setTimeout as sleep} from 'node:timers/promises'
import {RuntimeError} from '../errors.js'
import {AttachClient} from '../shim/attach.js'
import {type ShimHealth, spawnShim} from '../shim/spawn.js'
import {userNsArgv} from '../userns/exec.js'
import {helperPath} from '../userns/helpers.js'
import {currentMapping} from '../userns/idmap.js'
import {writeJsonAtomic} from './json-file.js'
import {readRestartFile, type RestartState} from './restart-file.js'
import {removeTree} from '../userns/remove.js'
import {requireBinary} from './binaries.js'
import {classifyRuntimeError, lastRuntimeError, runtimeErrorMessage, shimErrorMessage} from './classify.js'
import {exitCodeOf, isAlive, processStartTime} from './process.js'
import type {OciRuntime} from './runtime.js'
import {type ExitInfo, statusFromRuntime, type TaskState, taskState, type TaskStatus} from './status.js'

/**
 * A container's process as containerd calls it: a Task. One implementation, over our C shim:
 * the shim runs `runtime create`/`start`, owns the stdio, writes the exit file and cleans up;
 * this class is the only code that knows what the runtime is, how it fails, and what the shim
 * leaves behind.
 */

/** Where a task's files live (the container's layout decides; the task only uses them). */
export interface TaskFiles {
  /** The OCI bundle (config.json). */
  bundle: string
  /** The mount point of the rootfs. */
  rootfs: string
  /** The task's record (shim pid, start times, ...): written by the task, atomically. */
  stateFile: string
  /** The shim's exit file. */
  exitFile: string
  /** Container output, written by the shim. */
  logFile: string
  /** The shim's own stderr. */
  diagnosticsFile: string
  /** Runtime directory of the shim (attach socket, pid files). */
  runDir: string
  attachSocket: string
  /** The shim's restart file (restart count, back-off), kept after the shim exits. */
  restartFile: string
}

/** What the task records in its state file; the container may add its own keys (kept on rewrite). */
export interface TaskRecord {
  shimPid?: number
  /** Kernel start time of the shim (field 22 of /proc/PID/stat): guards against pid reuse. */
  shimStartTime?: string
  containerPid?: number
  /** Kernel start time of the container's init, for finding its processes after a killed shim. */
  containerStartTime?: string
  startedAt?: string
}

export interface CreateTaskOptions {
  tty: boolean
  stdin: boolean
  /** The rootfs mount: program and arguments run by the shim before `create`. */
  mount?: {program: string; args: string[]}
  /** Run by the shim after the container is gone and cleaned up (--rm). */
  exitCommand?: string[]
  /** The shim rotates the container log past maxSize bytes, keeping maxFiles files. */
  logRotation?: {maxSize: number; maxFiles: number}
  /** The shim runs this check in the container on its timer and records State.Health in stateFile. */
  health?: ShimHealth
  /** /proc/PID/ns/user of another container to run in (it shares that one's pid or IPC namespace). */
  joinUserNs?: string
  /** The shim restarts the process: `on-failure[:MAX]` or `always` (shim/PROTOCOL.md). */
  restartPolicy?: string
  /** The shim holds the network namespace (the bundle asks for none), so it outlives restarts. */
  ownNetns?: boolean
  /** The shim appends the container's `die` event to this journal, with these attributes (K=V). */
  events?: {file: string; attrs: string[]}
  /** With `ownNetns`: the shim's network namespace exists (the container is not created yet). */
  onNetns?: (shimPid: number) => void
}

export interface ExecIO {
  stdin: 'inherit' | 'ignore' | Readable
  stdout: 'inherit' | Writable
  /** The process's stderr (the runtime's own error lines are taken out and classified). */
  stderr: Writable
  /**
   * A tty process for a front end without a terminal of its own (the API service): the runtime
   * gets a pseudo-terminal from util-linux `script` (output, errors included, on stdout), of this
   * size; `onResize` receives the function that resizes it later.
   */
  pty?: {rows: number; cols: number; onResize?: (resize: (rows: number, cols: number) => void) => void}
}

export interface ExecProcessOptions {
  args: string[]
  tty: boolean
  detach: boolean
  /** KEY=VALUE, already resolved. */
  env: string[]
  cwd?: string
  user?: {uid: number; gid: number; additionalGids?: number[]}
  io: ExecIO
}

export interface TaskStateDetail extends TaskState {
  pid?: number
  shimPid?: number
  startedAt?: string
  /** What the shim recorded about restarts (absent without a restart policy). */
  restart?: RestartState
}

export interface Task {
  readonly id: string
  /** Spawns the shim, which mounts the rootfs and runs `runtime create`: the process exists, stopped before exec. */
  create(opts: CreateTaskOptions): Promise<{pid: number; shimPid: number}>
  /** A connection to the shim (output from now on, stdin, signals, the exit code). */
  attach(): Promise<AttachClient>
  /** Lets the created process run (`runtime start` by the shim). */
  start(client: AttachClient): Promise<void>
  /** Sends a signal to the container's init; `endRestartPolicy`: the user stops it, the shim restarts it no more. */
  kill(signal: number, opts?: {endRestartPolicy?: boolean}): Promise<void>
  /** Ends the restart policy (a waiting restart is cancelled and the shim exits). */
  endRestartPolicy(): Promise<void>
  /** Until the process has exited and the shim is gone (undefined after `timeoutMs`, or once the task's files were removed). */
  wait(timeoutMs?: number): Promise<ExitInfo | undefined>
  /** Runs another process in the container (`runtime exec`); resolves with its exit code. */
  exec(opts: ExecProcessOptions): Promise<number>
  /** Removes what the task left: waits for the shim, kills the orphans of a killed shim, removes the runtime's state. */
  delete(): Promise<void>
  state(): TaskStateDetail
  /** Merges keys into the state file (the container's own, e.g. network helpers). */
  record(extra: Record<string, unknown>): Promise<void>
  readRecord<T extends TaskRecord>(): T
}

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

export function readExitFile(path: string): ExitInfo | undefined {
  return readJson<ExitInfo>(path)
}

export class ShimTask implements Task {
  private resolved?: OciRuntime

  /**
   * `runtime` is resolved on first use: reading the state needs no runtime binary. `shimNetns`:
   * the container's network namespace is the shim's (the bundle names none), so a process run in
   * it (`exec`) enters the shim's network namespace too, not only its user and mount namespaces.
   */
  constructor(
    readonly id: string,
    private readonly resolveRuntime: () => OciRuntime,
    private readonly files: TaskFiles,
    private readonly opts: {shimNetns?: boolean} = {},
  ) {}

  private get runtime(): OciRuntime {
    this.resolved ??= this.resolveRuntime()
    return this.resolved
  }

  readRecord<T extends TaskRecord>(): T {
    return readJson<T>(this.files.stateFile) ?? ({} as T)
  }

  async record(extra: Record<string, unknown>): Promise<void> {
    await writeJsonAtomic(this.files.stateFile, {...this.readRecord(), ...extra})
  }

  state(): TaskStateDetail {
    const rec = this.readRecord()
    const exit = readExitFile(this.files.exitFile)
    const restart = readRestartFile(this.files.restartFile)
    const s = taskState({startedAt: rec.startedAt, exit, shimAlive: isAlive(rec.shimPid, rec.shimStartTime), restarting: restart?.restarting})
    return {...s, pid: restart?.pid ?? rec.containerPid, shimPid: rec.shimPid, startedAt: restart?.startedAt ?? rec.startedAt, restart}
  }

  async create(opts: CreateTaskOptions): Promise<{pid: number; shimPid: number}> {
    // the shim of a start whose CLI was killed before the container started: stop it first
    await this.stopUnstarted()
    // the shim of the last run may still be finishing (the exit file comes before its unmount and
    // the runtime's delete): a new one for the same id starts once it is gone
    await shimGone(this.readRecord(), 10_000)
    await rm(this.files.exitFile, {force: true})
    await rm(this.files.restartFile, {force: true})
    await mkdir(this.files.runDir, {recursive: true, mode: 0o700})
    const result = await spawnShim({
      userns: userNsArgv(currentMapping(), [], {mount: true, join: opts.joinUserNs}),
      shimPath: helperPath('ctr-ts-shim'),
      id: this.id,
      bundle: this.files.bundle,
      runtime: this.runtime.path,
      runtimeArgs: this.runtime.globalArgs,
      mountProgram: opts.mount?.program,
      mountArgs: opts.mount?.args,
      rootfs: this.files.rootfs,
      stateDir: this.files.runDir,
      logFile: this.files.logFile,
      logRotation: opts.logRotation,
      health: opts.health,
      events: opts.events,
      exitFile: this.files.exitFile,
      tty: opts.tty,
      stdin: opts.stdin,
      exitCommand: opts.exitCommand,
      restart: opts.restartPolicy ? {policy: opts.restartPolicy, file: this.files.restartFile} : undefined,
      ownNetns: opts.ownNetns,
      onNetns: opts.onNetns,
      diagnosticsFile: this.files.diagnosticsFile,
      // recorded before it reports: a CLI killed while waiting leaves a shim others can find and stop
      onSpawned: (shimPid) => writeJsonAtomic(this.files.stateFile, {shimPid, shimStartTime: processStartTime(shimPid)}),
    })
    if ('error' in result) throw classifyRuntimeError(shimErrorMessage(result.error))
    const {shimPid, containerPid} = result
    const rec: TaskRecord = {
      shimPid,
      shimStartTime: processStartTime(shimPid),
      containerPid,
      containerStartTime: processStartTime(containerPid),
      startedAt: new Date().toISOString(),
    }
    await writeJsonAtomic(this.files.stateFile, rec)
    return {pid: containerPid, shimPid}
  }

  attach(): Promise<AttachClient> {
    return AttachClient.connect(this.files.attachSocket)
  }

  async start(client: AttachClient): Promise<void> {
    try {
      await client.start()
    } catch (err) {
      if (err instanceof RuntimeError) throw classifyRuntimeError(shimErrorMessage(err.message))
      throw err
    }
  }

  async kill(signal: number, opts: {endRestartPolicy?: boolean} = {}): Promise<void> {
    const client = await this.attach()
    if (opts.endRestartPolicy) client.endRestartPolicy()
    client.signal(signal)
    await client.drained()
    client.close()
  }

  async endRestartPolicy(): Promise<void> {
    const client = await this.attach()
    client.endRestartPolicy()
    await client.drained()
    client.close()
  }

  async wait(timeoutMs = Infinity): Promise<ExitInfo | undefined> {
    const deadline = Date.now() + timeoutMs
    const done = () => {
      const s = this.state()
      return s.status === 'stopped' ? s.exit : undefined
    }
    let watcher: ReturnType<typeof watch> | undefined
    let wake: () => void = () => undefined
    const dir = join(this.files.exitFile, '..')
    try {
      watcher = watch(dir, () => wake())
    } catch {
      // directory vanished (removed under --rm): fall back to polling
    }
    try {
      for (;;) {
        const exit = done()
        if (exit) return exit
        // Removed (e.g. by --rm right after the exit, before we read the exit file): no exit to wait for.
        if (!existsSync(dir)) return undefined
        const left = deadline - Date.now()
        if (left <= 0) return undefined
        // The watcher wakes us at once when the exit file lands; the short timer covers a shim
        // that was killed without writing one. It is cleared when the watcher wins: a pending
        // timer would keep the process alive for up to 250 ms after the exit (stop, rm -f).
        let timer: NodeJS.Timeout | undefined
        await new Promise<void>((resolve) => {
          wake = resolve
          timer = setTimeout(resolve, Math.min(left, 250))
        })
        clearTimeout(timer)
      }
    } finally {
      watcher?.close()
    }
  }

  /**
   * Joins the shim's user and mount namespaces (where the rootfs mount and the runtime's view
   * live) and runs `runtime exec` in the foreground. For a tty the runtime allocates the pty and
   * relays the terminal itself.
   */
  async exec(opts: ExecProcessOptions): Promise<number> {
    const rec = this.readRecord()
    const nsenter = requireBinary('nsenter', 'install util-linux')
    const args = ['--target', String(rec.shimPid), '--user', '--mount', ...(this.opts.shimNetns ? ['--net'] : []), '--', this.runtime.path, ...this.runtime.globalArgs]
    // A detached process inherits the runtime's stdio: give it /dev/null (output is discarded, like
    // docker) and read the runtime's errors from its log file instead of a pipe the process would keep open.
    const logFile = opts.detach ? join(this.files.runDir, `exec-${randomBytes(6).toString('hex')}.log`) : undefined
    if (logFile) args.push('--log', logFile, '--log-format', 'json')
    args.push('exec')
    if (opts.tty) args.push('--tty')
    if (opts.detach) args.push('--detach')
    for (const e of opts.env) args.push('--env', e)
    if (opts.cwd) args.push('--cwd', opts.cwd)
    if (opts.user) {
      args.push('--user', `${opts.user.uid}:${opts.user.gid}`)
      for (const g of opts.user.additionalGids ?? []) args.push('--additional-gids', String(g))
    }
    args.push(this.id, ...opts.args)
    if (logFile) return execDetached(nsenter, args, logFile)

    const {stdin, stdout} = opts.io
    const stdio: StdioOptions = [typeof stdin === 'string' ? stdin : 'pipe', typeof stdout === 'string' ? stdout : 'pipe', 'pipe']
    const pty = opts.tty ? opts.io.pty : undefined
    const child = pty ? spawnInPty(nsenter, args, pty, stdio) : spawn(nsenter, args, {stdio})
    if (typeof stdin !== 'string') stdin.pipe(child.stdin!)
    if (typeof stdout !== 'string') child.stdout!.pipe(stdout, {end: false})
    let failure: string | undefined
    let partial = ''
    const take = (line: string, eol: string) => {
      const msg = runtimeErrorMessage(line)
      if (msg) failure ??= msg
      else opts.io.stderr.write(line + eol)
    }
    child.stderr!.on('data', (chunk: Buffer) => {
      const lines = (partial + chunk.toString('utf8')).split('\n')
      partial = lines.pop() ?? ''
      for (const line of lines) take(line, '\n')
    })
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('close', (c, sig) => resolve(exitCodeOf(c, sig)))
    })
    if (partial) take(partial, '')
    if (failure && code !== 0) throw classifyRuntimeError(failure)
    return code
  }

  async delete(): Promise<void> {
    await this.stopUnstarted()
    const rec = this.recordOrShimPidFile()
    // Wait for the shim itself to be gone: it unmounts the rootfs and deletes the runtime's
    // container (after the exit file, which `stop` returns on: a few ms).
    if (!(await shimGone(rec, 5000))) throw new RuntimeError(`the shim of container ${this.id.slice(0, 12)} does not exit`)
    // A shim that was killed cleaned nothing up: kill what it left running. One that finished
    // wrote the exit file, reaped its children and then removed its pid file: nothing is left.
    if ((rec.startedAt || rec.shimPid) && !this.finishedCleanly()) await this.killOrphans(rec)
    let runtimeState: string[] = []
    try {
      runtimeState = [join(this.runtime.root, this.id)]
    } catch {
      // no runtime binary any more: it left no state we could find either
    }
    // a few small files: removed synchronously (each await of an async rm is a thread-pool round
    // trip, slow on a busy machine); what the user cannot remove goes through the user namespace
    const stubborn = [this.files.runDir, ...runtimeState].filter((dir) => {
      try {
        rmSync(dir, {recursive: true, force: true})
        return false
      } catch {
        return true
      }
    })
    if (stubborn.length > 0) await removeTree(...stubborn)
  }

  /** The shim's last run ended in its own clean-up: the exit file is there and the shim removed its pid file last. */
  private finishedCleanly(): boolean {
    return existsSync(this.files.exitFile) && !existsSync(join(this.files.runDir, 'shim.pid'))
  }

  /**
   * The task's record; when it names no shim (the CLI was killed between spawning the shim and
   * recording it), the shim's own pid file in the run directory, if that process is this task's
   * shim (its command line names this id: a reused pid is never taken for it).
   */
  private recordOrShimPidFile(): TaskRecord {
    const rec = this.readRecord()
    if (rec.shimPid !== undefined) return rec
    let pid: number
    let cmdline: string
    try {
      pid = Number(readFileSync(join(this.files.runDir, 'shim.pid'), 'utf8').trim())
      cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    } catch {
      return rec
    }
    if (!Number.isInteger(pid) || pid <= 0 || !cmdline.split('\0').some((arg, i, all) => arg === this.id && all[i - 1] === '--id')) return rec
    return {...rec, shimPid: pid, shimStartTime: processStartTime(pid)}
  }

  /**
   * A shim that was spawned but whose container never started (the CLI was killed between the
   * two) waits for START until its start timeout. SIGTERM makes it delete the container, unmount
   * and exit at once; SIGKILL if it does not within 10 s.
   */
  private async stopUnstarted(): Promise<void> {
    const rec = this.recordOrShimPidFile()
    if (rec.startedAt || !isAlive(rec.shimPid, rec.shimStartTime)) return
    const signal = (sig: NodeJS.Signals) => {
      try {
        process.kill(rec.shimPid!, sig)
      } catch {
        // gone
      }
    }
    signal('SIGTERM')
    for (let i = 0; i < 200 && isAlive(rec.shimPid, rec.shimStartTime); i++) await sleep(50)
    if (isAlive(rec.shimPid, rec.shimStartTime)) signal('SIGKILL')
  }

  /** The runtime's view of the container (`runtime state ID`): status and init pid; undefined when it does not know it. */
  async runtimeState(): Promise<{status: TaskStatus; pid?: number} | undefined> {
    const child = spawn(this.runtime.path, [...this.runtime.globalArgs, 'state', this.id], {stdio: ['ignore', 'pipe', 'ignore']})
    let out = ''
    child.stdout.setEncoding('utf8').on('data', (c: string) => (out += c))
    const code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null))
      child.on('close', (c) => resolve(c))
    })
    if (code !== 0) return undefined
    try {
      const s = JSON.parse(out) as {status?: string; pid?: number}
      return {status: statusFromRuntime(s.status), pid: s.pid || undefined}
    } catch {
      return undefined
    }
  }

  /**
   * After its shim was killed, a container's processes, its fuse-overlayfs daemon, slirp4netns and
   * the port proxy keep running in the shim's user namespace. They are found through processes
   * that provably belong to this container (the fuse-overlayfs daemon mounting its rootfs, the init
   * recorded with its start time, or as the runtime reports it): every process in their user
   * namespace gets SIGKILL. A namespace is only matched while such a process holds it, so a
   * recycled namespace inode of another container can never be matched.
   */
  private async killOrphans(rec: TaskRecord): Promise<void> {
    const anchors: number[] = []
    if (rec.containerPid && rec.containerStartTime && isAlive(rec.containerPid, rec.containerStartTime)) anchors.push(rec.containerPid)
    else if (rec.containerPid && isAlive(rec.containerPid, undefined)) {
      // A record of an older version has no start time: ask the runtime whose init this is.
      const rs = await this.runtimeState()
      if (rs?.pid === rec.containerPid) anchors.push(rs.pid)
    }
    for (const pid of pids()) {
      const cmd = cmdlineOf(pid)
      if (cmd.includes('fuse-overlayfs') && cmd.includes(this.files.rootfs)) anchors.push(pid)
    }
    const own = userNsOf(process.pid)
    const namespaces = new Set(anchors.map(userNsOf).filter((ns): ns is string => ns !== undefined && ns !== own))
    if (namespaces.size === 0) return
    // zombies are dead already (their parent reaps them); only live processes count
    const victims = () => pids().filter((pid) => pid !== process.pid && namespaces.has(userNsOf(pid) ?? '') && processStartTime(pid) !== undefined)
    for (let round = 0; round < 50; round++) {
      const left = victims()
      if (left.length === 0) return
      for (const pid of left) {
        try {
          process.kill(pid, 'SIGKILL')
        } catch {
          // gone meanwhile
        }
      }
      await sleep(100)
    }
    throw new RuntimeError(`processes of container ${this.id.slice(0, 12)} survived SIGKILL`)
  }
}

/** Whether the record's shim is gone, waiting up to `timeoutMs` for it (polled from 1 ms up to 50 ms). */
async function shimGone(rec: TaskRecord, timeoutMs: number): Promise<boolean> {
  for (let waited = 0, step = 1; isAlive(rec.shimPid, rec.shimStartTime); waited += step, step = Math.min(step * 2, 50)) {
    if (waited >= timeoutMs) return false
    await sleep(step)
  }
  return true
}

/** runtime exec --detach: waits for the runtime itself (not the process), errors from its JSON log. */
async function execDetached(nsenter: string, args: string[], logFile: string): Promise<number> {
  try {
    const child = spawn(nsenter, args, {stdio: 'ignore'})
    const code = await new Promise<number>((resolve, reject) => {
      child.on('error', reject)
      child.on('exit', (c, sig) => resolve(exitCodeOf(c, sig)))
    })
    if (code === 0) return 0
    let log = ''
    try {
      log = readFileSync(logFile, 'utf8')
    } catch {
      // no log written
    }
    const failure = lastRuntimeError(log)
    throw failure ? classifyRuntimeError(failure) : new RuntimeError(`the runtime's exec failed (exit code ${code})`)
  } finally {
    rmSync(logFile, {force: true})
  }
}

function pids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
}

function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
  } catch {
    return ''
  }
}

function userNsOf(pid: number): string | undefined {
  try {
    return readlinkSync(`/proc/${pid}/ns/user`)
  } catch {
    return undefined
  }
}

const shq = (a: string) => `'${a.replaceAll("'", `'\\''`)}'`

/**
 * Runs `cmd args` on a pseudo-terminal of util-linux `script` (the runtime relays a tty process
 * only from a terminal of its own). Resizing sets the pty's size (stty -F) and sends the runtime
 * SIGWINCH, which copies it to the container's terminal.
 */
function spawnInPty(cmd: string, args: string[], pty: NonNullable<ExecIO['pty']>, stdio: StdioOptions) {
  const script = requireBinary('script', 'install util-linux')
  const size = (rows: number, cols: number) => `stty rows ${Math.max(1, Math.floor(rows))} cols ${Math.max(1, Math.floor(cols))} 2>/dev/null`
  const line = `${size(pty.rows, pty.cols)}; exec ${[cmd, ...args].map(shq).join(' ')}`
  const child = spawn(script, ['-qefc', line, '/dev/null'], {stdio, env: {...process.env, SHELL: '/bin/sh'}})
  /** Sets the size once the runtime runs on the pty (after `script`'s shell ran its own stty). */
  const apply = (rows: number, cols: number, triesLeft: number): void => {
    if (child.exitCode !== null || child.signalCode !== null) return
    let runtimePid = 0
    try {
      const kids = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean)
      const pid = Number(kids[0])
      if (pid && !['sh', 'dash', 'bash', 'nsenter'].includes(readFileSync(`/proc/${pid}/comm`, 'utf8').trim())) runtimePid = pid
    } catch {
      // not there yet, or gone
    }
    if (!runtimePid) {
      if (triesLeft > 0) setTimeout(() => apply(rows, cols, triesLeft - 1), 50).unref()
      return
    }
    try {
      const tty = readlinkSync(`/proc/${runtimePid}/fd/0`)
      const stty = spawn('stty', ['-F', tty, 'rows', String(rows), 'cols', String(cols)], {stdio: 'ignore'})
      stty.on('error', () => undefined)
      // again a little later: a runtime that is still starting reads the size before the stty
      // and installs its SIGWINCH handler after the first signal
      const winch = () => {
        try {
          process.kill(runtimePid, 'SIGWINCH')
        } catch {
          // it exited
        }
      }
      stty.on('close', () => {
        winch()
        for (const ms of [250, 1000]) setTimeout(winch, ms).unref()
      })
    } catch {
      // the process is gone
    }
  }
  pty.onResize?.((rows, cols) => apply(rows, cols, 100))
  return child
}
