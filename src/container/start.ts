import type {Context} from '../context.js'
import {trace} from '../trace.js'
import {ConflictError} from '../errors.js'
import {connectHolder, type Holder} from '../network/rootless-netns.js'
import {attachNetworks, type NetworkSetupInput, setupNetwork} from '../network/setup.js'
import {currentMapping} from '../userns/idmap.js'
import {attachmentsOf, joinTargetNetns, setNetnsPath} from './networks.js'
import {fuseOverlayCommand} from '../rootfs/overlay.js'
import type {AttachClient} from '../shim/attach.js'
import {lowerDirs} from '../store/layers.js'
import {autoRemoveExitCommand, settleAutoRemove} from './auto-remove.js'
import {type ContainerRecord, containerPaths} from './record.js'
import {containerStatus} from './status.js'
import {containerTask} from './task.js'

export interface StartOptions {
  /** Keep the attach connection and return it. */
  attach: boolean
  /**
   * Called with the connected client before the container's process starts, so a session can
   * listen before the first byte of output arrives.
   */
  beforeStart?: (client: AttachClient) => void
}

/**
 * Starts a created (or exited) container: the Task is created (the shim mounts the rootfs and
 * runs `runtime create`), the network is set up, then the Task starts through an attach
 * connection made before, so an attached client never misses output. Returns the connected
 * client when `attach` is set, otherwise disconnects (the container runs on without us).
 * A `--rm` container that fails to start is removed.
 */
export async function startContainer(ctx: Context, rec: ContainerRecord, opts: StartOptions): Promise<AttachClient | undefined> {
  const status = containerStatus(ctx, rec)
  if (status.running) {
    if (opts.attach) throw new ConflictError(`container ${rec.name} is already running: use attach`)
    return undefined
  }
  try {
    return await startTask(ctx, rec, opts)
  } catch (err) {
    await settleAutoRemove(ctx, rec)
    throw err
  }
}

async function startTask(ctx: Context, rec: ContainerRecord, opts: StartOptions): Promise<AttachClient | undefined> {
  let bridge: NetworkSetupInput['bridge']
  // A container on user-defined networks joins the rootless network holder's user namespace; one
  // that shares another container's network namespace joins that container's shim's.
  let holder: Holder | undefined
  let joinUserNs: number | undefined
  if (rec.network === 'bridge') {
    const attachments = await attachmentsOf(ctx, rec)
    holder = await trace.phase('network: holder', () => connectHolder({dir: ctx.run.netns, mapping: currentMapping(), containerId: rec.id}))
    joinUserNs = holder.pid
    await setNetnsPath(ctx, rec, `/proc/${holder.keeperPid}/ns/net`)
    // netavark works while the shim mounts the rootfs and the runtime creates the container
    bridge = {holder, attachments, attached: attachNetworks(holder, rec.id, rec.name, attachments)}
  } else if (rec.network === 'container') {
    joinUserNs = await joinTargetNetns(ctx, rec)
  }
  try {
    return await createAndStart(ctx, rec, opts, joinUserNs, bridge)
  } finally {
    // the port proxy holds its own copy (or the start failed: the holder sees the end)
    holder?.connection.destroy()
  }
}

async function createAndStart(
  ctx: Context,
  rec: ContainerRecord,
  opts: StartOptions,
  joinUserNs: number | undefined,
  bridge: NetworkSetupInput['bridge'],
): Promise<AttachClient | undefined> {
  const paths = containerPaths(ctx, rec.id)
  const task = containerTask(ctx, rec)
  const mount = fuseOverlayCommand({lowerDirs: await lowerDirs(ctx.store, rec.diffIds), upper: paths.upper, work: paths.work, merged: paths.merged})
  const created = await trace.phase('task create', () => task.create({
    joinUserNs,
    tty: rec.tty,
    stdin: rec.stdin,
    mount,
    exitCommand: autoRemoveExitCommand(ctx, rec),
    logRotation: rec.logConfig?.maxSize !== undefined ? {maxSize: rec.logConfig.maxSize, maxFiles: rec.logConfig.maxFiles ?? 1} : undefined,
  }))
  const client = await task.attach()
  opts.beforeStart?.(client)
  try {
    // The container exists but has not started: give it its network before its process runs.
    const net = await trace.phase('network setup', () => setupNetwork({
      network: rec.network,
      bridge,
      shimPid: created.shimPid,
      containerPid: created.pid,
      runDir: paths.runDir,
      ports: rec.ports,
      allowHostLoopback: rec.allowHostLoopback ?? ctx.config.network.allowHostLoopback,
      udpIdleTimeout: ctx.config.portProxy.udpIdleTimeout,
    }))
    await task.record({helperPids: net.helperPids, ports: net.ports})
    await task.start(client)
  } catch (err) {
    // Killing the created container's init makes the shim clean up and exit.
    client.signal(9)
    await client.drained()
    client.close()
    await task.wait(15_000)
    throw err
  }
  if (opts.attach) return client
  client.close()
  return undefined
}
