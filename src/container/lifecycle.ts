import {rm} from 'node:fs/promises'
import type {Context} from '../context.js'
import {ConflictError, RuntimeError} from '../errors.js'
import {parseSignal} from '../spec/flags.js'
import {removeTree} from '../userns/remove.js'
import {releaseName} from './names.js'
import {releaseAddresses} from './networks.js'
import {type ContainerRecord, containerExists, containerLeaseId, containerPaths, type ExitInfo} from './record.js'
import {releaseLease} from '../store/leases.js'
import {containerStatus} from './status.js'
import {containerTask} from './task.js'
import {detachMounts} from '../volume/mounts.js'
import {lastDieExitCode, recordContainerEvent} from '../events/journal.js'
import {trace} from '../trace.js'

/** Sends a signal to the container's init process (the Task's kill). */
export async function signalContainer(ctx: Context, rec: ContainerRecord, signal: string | number): Promise<void> {
  const signo = typeof signal === 'number' ? signal : parseSignal(signal)
  const status = containerStatus(ctx, rec)
  if (!status.running) throw new ConflictError(`container ${rec.name} is not running`)
  // docker: SIGKILL or the stop signal is the user stopping it: the restart policy ends
  const ends = signo === 9 || signo === parseSignal(rec.stopSignal)
  if (status.restarting && !ends) throw new ConflictError(`container ${rec.name} is restarting, wait until the container is running`)
  // journaled before the signal, as docker does: the shim's `die` may follow at once
  recordContainerEvent(ctx.store, rec, 'kill', {signal: String(signo)})
  await containerTask(ctx, rec).kill(signo, {endRestartPolicy: ends && rec.restartPolicy !== undefined})
}

/**
 * Waits until the container has exited and its shim is gone (the exit file is written before the
 * shim exits), or until `timeoutMs` passes (then undefined).
 */
export async function waitForExit(ctx: Context, rec: ContainerRecord, timeoutMs = Infinity): Promise<ExitInfo | undefined> {
  const exit = await containerTask(ctx, rec).wait(timeoutMs)
  if (exit || containerExists(ctx, rec.id)) return exit
  // Removed meanwhile (--rm removes it as soon as it exits): its exit code is in the shim's `die` event.
  return {exitCode: lastDieExitCode(ctx.store, rec.id) ?? 0, signal: null, finishedAt: new Date().toISOString()}
}

/** docker stop: the stop signal, then SIGKILL after `timeoutSec`. */
export async function stopContainer(ctx: Context, rec: ContainerRecord, timeoutSec: number): Promise<void> {
  if (!containerStatus(ctx, rec).running) return
  await trace.phase('stop: the stop signal (attach socket)', () => signalContainer(ctx, rec, rec.stopSignal).catch(ignoreNotRunning))
  if (!(await trace.phase('stop: until the exit file', () => waitForExit(ctx, rec, timeoutSec < 0 ? Infinity : timeoutSec * 1000)))) {
    await signalContainer(ctx, rec, 'SIGKILL').catch(ignoreNotRunning)
    if (!(await waitForExit(ctx, rec, 10_000))) throw new RuntimeError(`container ${rec.name} did not stop after SIGKILL`)
  }
  recordContainerEvent(ctx.store, rec, 'stop')
}

function ignoreNotRunning(err: unknown): void {
  if (err instanceof ConflictError) return
  // The shim may close its socket while we signal: the container is exiting anyway.
  if (err instanceof RuntimeError && /ECONNREFUSED|ENOENT/.test(err.message)) return
  const code = (err as NodeJS.ErrnoException).code
  if (code === 'ECONNREFUSED' || code === 'ENOENT') return
  throw err
}

export {containerExists} from './record.js'

/**
 * docker rm: refuses a running container unless `force` (then kills it first). With `volumes`
 * (`rm -v`) its anonymous volumes go too, unless another container uses them.
 */
export async function removeContainer(ctx: Context, rec: ContainerRecord, force: boolean, opts: {volumes?: boolean} = {}): Promise<void> {
  if (containerStatus(ctx, rec).running) {
    if (!force) throw new ConflictError(`container ${rec.name} is running: stop it first or use --force`)
    await signalContainer(ctx, rec, 'SIGKILL').catch(ignoreNotRunning)
    if (!(await waitForExit(ctx, rec, 15_000))) throw new RuntimeError(`container ${rec.name} did not exit after SIGKILL`)
  }
  await trace.phase('rm: task delete (shim gone, its run directory)', () => containerTask(ctx, rec).delete())
  const paths = containerPaths(ctx, rec.id)
  await rm(paths.record, {force: true})
  // the container is gone for everyone from here: what it held is released at once, together
  await trace.phase('rm: directory, name, volumes, addresses', () => Promise.all([
    removeTree(paths.dir),
    releaseName(ctx, rec.name, rec.id),
    detachMounts(ctx.store, rec.mounts, rec.id, {removeAnonymous: opts.volumes === true, inUse: (id) => containerExists(ctx, id)}),
    releaseAddresses(ctx, rec),
  ]))
  // last: a crash before this leaves a lease without container (disk kept), never the reverse
  await trace.phase('rm: lease', () => releaseLease(ctx.store, containerLeaseId(rec.id)))
  recordContainerEvent(ctx.store, rec, 'destroy')
}
