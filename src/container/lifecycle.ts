import {watch} from 'node:fs'
import {rm} from 'node:fs/promises'
import {setTimeout as sleep} from 'node:timers/promises'
import type {Context} from '../context.js'
import {ConflictError, RuntimeError} from '../errors.js'
import {AttachClient} from '../shim/attach.js'
import {parseSignal} from '../spec/flags.js'
import {removeTree} from '../userns/remove.js'
import {releaseName} from './names.js'
import {type ContainerRecord, containerPaths, type ExitInfo, readExit, readState} from './record.js'
import {containerStatus, isAlive} from './status.js'

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
  // Wait for the shim itself to be gone: it unmounts the rootfs and removes the runtime state.
  const state = readState(ctx, rec.id)
  for (let i = 0; i < 100 && isAlive(state.shimPid, state.shimStartTime); i++) await sleep(50)
  const paths = containerPaths(ctx, rec.id)
  await rm(paths.record, {force: true})
  await removeTree(paths.dir, paths.runDir)
  await releaseName(ctx, rec.name, rec.id)
}
