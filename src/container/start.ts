import {mkdir, rm} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {ConflictError} from '../errors.js'
import {setupNetwork} from '../network/setup.js'
import {fuseOverlayCommand} from '../rootfs/overlay.js'
import {resolveRuntime} from '../runtime/runtime.js'
import {AttachClient} from '../shim/attach.js'
import {spawnShim} from '../shim/spawn.js'
import {userNsArgv} from '../userns/exec.js'
import {helperPath} from '../userns/helpers.js'
import {currentMapping} from '../userns/idmap.js'
import {type ContainerRecord, containerPaths, saveState} from './record.js'
import {relaySession, type SessionOptions, type SessionResult} from './session.js'
import {containerStatus, processStartTime} from './status.js'

/**
 * Starts a created (or exited) container: the shim is spawned in a fresh user + mount namespace,
 * mounts the rootfs and runs `runtime create`; then we connect to its attach socket and tell it
 * to start the process, so an attached client never misses output. Returns the connected client
 * when `attach` is set, otherwise disconnects (the container runs on without us).
 */
export interface StartOptions {
  /** Keep the attach connection and return it. */
  attach: boolean
  /**
   * Called with the connected client before the container's process starts, so a session can
   * listen before the first byte of output arrives.
   */
  beforeStart?: (client: AttachClient) => void
}

export async function startContainer(ctx: Context, rec: ContainerRecord, opts: StartOptions): Promise<AttachClient | undefined> {
  const status = containerStatus(ctx, rec)
  if (status.running) {
    if (opts.attach) throw new ConflictError(`container ${rec.name} is already running: use attach`)
    return undefined
  }
  const paths = containerPaths(ctx, rec.id)
  await rm(paths.exit, {force: true})
  await mkdir(paths.runDir, {recursive: true, mode: 0o700})
  const runtime = resolveRuntime(ctx, rec.runtime)
  const mount = fuseOverlayCommand({lowerDirs: rec.lowerDirs, upper: paths.upper, work: paths.work, merged: paths.merged})
  const userns = userNsArgv(currentMapping(), [], {mount: true})
  // With --rm the shim removes the container when it exits (it is root of the container's user
  // namespace there, so it can delete files owned by any mapped id). It does so before it
  // reports the exit, so a foreground `run --rm` returns only once everything is gone.
  const exitCommand = rec.autoRemove ? ['/bin/rm', '-rf', '--', paths.dir, paths.runDir, join(ctx.store.names, rec.name)] : undefined

  // The network helpers are started through execa: load it while the shim mounts and creates.
  if (rec.network === 'slirp4netns') void import('execa').catch(() => undefined)
  const started = await spawnShim({
    userns,
    shimPath: helperPath('ctr-ts-shim'),
    id: rec.id,
    bundle: paths.bundle,
    runtime: runtime.path,
    runtimeArgs: runtime.globalArgs,
    mountProgram: mount.program,
    mountArgs: mount.args,
    rootfs: paths.merged,
    stateDir: paths.runDir,
    logFile: paths.log,
    logRotation: rec.logConfig?.maxSize !== undefined ? {maxSize: rec.logConfig.maxSize, maxFiles: rec.logConfig.maxFiles ?? 1} : undefined,
    exitFile: paths.exit,
    tty: rec.tty,
    stdin: rec.stdin,
    exitCommand,
    diagnosticsFile: paths.shimLog,
  })
  const state = {
    shimPid: started.shimPid,
    shimStartTime: processStartTime(started.shimPid),
    containerPid: started.containerPid,
    startedAt: new Date().toISOString(),
  }
  await saveState(ctx, rec.id, state)
  const client = await AttachClient.connect(paths.attachSocket)
  opts.beforeStart?.(client)
  try {
    // The container exists but has not started: give it its network before its process runs.
    const net = await setupNetwork({
      network: rec.network,
      shimPid: started.shimPid,
      containerPid: started.containerPid,
      runDir: paths.runDir,
      ports: rec.ports,
      allowHostLoopback: rec.allowHostLoopback ?? ctx.config.network.allowHostLoopback,
      udpIdleTimeout: ctx.config.portProxy.udpIdleTimeout,
    })
    await saveState(ctx, rec.id, {...state, helperPids: net.helperPids, ports: net.ports})
    await client.start()
  } catch (err) {
    // Killing the created container's init makes the shim clean up and exit.
    client.signal(9)
    await client.drained()
    client.close()
    throw err
  }
  if (opts.attach) return client
  client.close()
  return undefined
}

/** Starts a container with the terminal attached from its first byte; resolves when it exits or we detach. */
export async function startAttached(ctx: Context, rec: ContainerRecord, session: SessionOptions): Promise<SessionResult> {
  let result: Promise<SessionResult> | undefined
  await startContainer(ctx, rec, {attach: true, beforeStart: (client) => (result = relaySession(client, session))})
  return result!
}
