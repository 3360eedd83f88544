import {readdirSync, readFileSync, readlinkSync, watch} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import type {Context} from '../context.js'
import {ConflictError, RuntimeError} from '../errors.js'
import {AttachClient} from '../shim/attach.js'
import {parseSignal} from '../spec/flags.js'
import {removeTree} from '../userns/remove.js'
import {releaseName} from './names.js'
import {type ContainerRecord, containerPaths, type ExitInfo, readExit, readState} from './record.js'
import {containerStatus, isAlive, processStartTime} from './status.js'

/** Sends a signal to the container's init process through its shim. */
export async function signalContainer(ctx: Context, rec: ContainerRecord, signal: string | number): Promise<void> {
  const signo = typeof signal === 'number' ? signal : parseSignal(signal)
  if (!containerStatus(ctx, rec).running) throw new ConflictError(`container ${rec.name} is not running`)
  const client = await AttachClient.connect(containerPaths(ctx, rec.id).attachSocket)
  client.signal(signo)
  await client.drained()
  client.close()
}

/**
 * Waits until the container has exited and its shim is gone (the exit file is written before the
 * shim exits), or until `timeoutMs` passes (then undefined).
 */
export async function waitForExit(ctx: Context, rec: ContainerRecord, timeoutMs = Infinity): Promise<ExitInfo | undefined> {
  const paths = containerPaths(ctx, rec.id)
  const deadline = Date.now() + timeoutMs
  const done = () => {
    const exit = readExit(ctx, rec.id)
    if (exit) return exit
    const state = readState(ctx, rec.id)
    if (state.startedAt && !isAlive(state.shimPid, state.shimStartTime)) return containerStatus(ctx, rec).exit
    if (!state.startedAt) return undefined
    return undefined
  }
  let watcher: ReturnType<typeof watch> | undefined
  let wake: () => void = () => undefined
  try {
    watcher = watch(paths.dir, () => wake())
  } catch {
    // directory vanished (removed under --rm): fall back to polling
  }
  try {
    for (;;) {
      const exit = done()
      if (exit) return exit
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      // The watcher wakes us at once when the exit file lands; the short timer covers a shim that
      // was killed without writing one.
      await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(Math.min(left, 250))])
    }
  } finally {
    watcher?.close()
  }
}

/** docker stop: the stop signal, then SIGKILL after `timeoutSec`. */
export async function stopContainer(ctx: Context, rec: ContainerRecord, timeoutSec: number): Promise<void> {
  if (!containerStatus(ctx, rec).running) return
  await signalContainer(ctx, rec, rec.stopSignal).catch(ignoreNotRunning)
  if (await waitForExit(ctx, rec, timeoutSec * 1000)) return
  await signalContainer(ctx, rec, 'SIGKILL').catch(ignoreNotRunning)
  if (!(await waitForExit(ctx, rec, 10_000))) throw new RuntimeError(`container ${rec.name} did not stop after SIGKILL`)
}

function ignoreNotRunning(err: unknown): void {
  if (err instanceof ConflictError) return
  // The shim may close its socket while we signal: the container is exiting anyway.
  if ((err as NodeJS.ErrnoException).code === 'ECONNREFUSED' || (err as NodeJS.ErrnoException).code === 'ENOENT') return
  throw err
}

/** docker rm: refuses a running container unless `force` (then kills it first). */
export async function removeContainer(ctx: Context, rec: ContainerRecord, force: boolean): Promise<void> {
  const status = containerStatus(ctx, rec)
  if (status.running) {
    if (!force) throw new ConflictError(`container ${rec.name} is running: stop it first or use --force`)
    await signalContainer(ctx, rec, 'SIGKILL').catch(ignoreNotRunning)
    if (!(await waitForExit(ctx, rec, 15_000))) throw new RuntimeError(`container ${rec.name} did not exit after SIGKILL`)
  }
  await stopUnstartedShim(ctx, rec)
  // Wait for the shim itself to be gone: it unmounts the rootfs and removes the runtime state.
  const state = readState(ctx, rec.id)
  for (let i = 0; i < 100 && isAlive(state.shimPid, state.shimStartTime); i++) await sleep(50)
  const paths = containerPaths(ctx, rec.id)
  // A shim that was killed cleaned nothing up: kill what it left running.
  if ((state.startedAt || state.shimPid) && !isAlive(state.shimPid, state.shimStartTime)) await killOrphans(ctx, rec)
  await rm(paths.record, {force: true})
  await removeTree(paths.dir, paths.runDir, join(ctx.run.runc, rec.id))
  await releaseName(ctx, rec.name, rec.id)
}

/**
 * A shim that was spawned but whose container never started (the CLI was killed between the two):
 * it waits for START until its start timeout. SIGTERM makes it delete the container, unmount and
 * exit at once ("stopped before start"); SIGKILL if it does not within 10 s.
 */
export async function stopUnstartedShim(ctx: Context, rec: ContainerRecord): Promise<void> {
  const state = readState(ctx, rec.id)
  if (state.startedAt || !isAlive(state.shimPid, state.shimStartTime)) return
  const signal = (sig: NodeJS.Signals) => {
    try {
      process.kill(state.shimPid!, sig)
    } catch {
      // gone
    }
  }
  signal('SIGTERM')
  for (let i = 0; i < 200 && isAlive(state.shimPid, state.shimStartTime); i++) await sleep(50)
  if (isAlive(state.shimPid, state.shimStartTime)) signal('SIGKILL')
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

/** The runtime's record of the container's init: {pid, start time} (runc's state.json). */
function runtimeInit(ctx: Context, id: string): {pid: number; start: string} | undefined {
  try {
    const s = JSON.parse(readFileSync(join(ctx.run.runc, id, 'state.json'), 'utf8')) as {init_process_pid?: number; init_process_start?: number}
    if (!s.init_process_pid || s.init_process_start === undefined) return undefined
    return {pid: s.init_process_pid, start: String(s.init_process_start)}
  } catch {
    return undefined
  }
}

/**
 * After its shim was killed, a container's processes, its fuse-overlayfs daemon, slirp4netns and
 * the port proxy keep running in the shim's user namespace. They are found through processes
 * that provably belong to this container (the fuse-overlayfs daemon mounting its rootfs, the init
 * the runtime recorded with its start time): every process in their user namespace gets SIGKILL.
 * A namespace is only matched while such a process holds it, so a recycled namespace inode of
 * another container can never be matched.
 */
async function killOrphans(ctx: Context, rec: ContainerRecord): Promise<void> {
  const paths = containerPaths(ctx, rec.id)
  const anchors: number[] = []
  const init = runtimeInit(ctx, rec.id)
  if (init && processStartTime(init.pid) === init.start) anchors.push(init.pid)
  for (const pid of pids()) {
    const cmd = cmdlineOf(pid)
    if (cmd.includes('fuse-overlayfs') && cmd.includes(paths.merged)) anchors.push(pid)
  }
  const namespaces = new Set(anchors.map(userNsOf).filter((ns): ns is string => ns !== undefined && ns !== userNsOf(process.pid)))
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
  throw new RuntimeError(`processes of container ${rec.name} survived SIGKILL`)
}
