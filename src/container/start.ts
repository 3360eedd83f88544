import type {Context} from '../context.js'
import {ConflictError, CtrError} from '../errors.js'
import {trace} from '../trace.js'
import {connectHolder, type Holder} from '../network/rootless-netns.js'
import {attachNetworks, type NetworkSetupInput, setupNetwork} from '../network/setup.js'
import {killQuietly} from '../network/proxy.js'
import {currentMapping} from '../userns/idmap.js'
import {attachmentsOf, joinTargetNetns, setNetnsPath} from './networks.js'
import {layersReadOnlyMount, rootfsMountCommand} from './rootfs-mount.js'
import type {AttachClient} from '../shim/attach.js'
import {lowerDirs} from '../store/layers.js'
import {healthFile, healthRun} from './health.js'
import {autoRemoveExitCommand, settleAutoRemove} from './auto-remove.js'
import {type ContainerRecord, containerPaths} from './record.js'
import {shimRestartArg} from './restart-policy.js'
import {containerStatus} from './status.js'
import {containerTask} from './task.js'
import {refreshJoinedNamespaces} from './run-flags.js'
import {seedVolumes} from '../volume/seed.js'
import {dieEventOptions} from '../events/journal.js'

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
    await recordStartFailure(ctx, rec, err)
    await settleAutoRemove(ctx, rec)
    throw err
  }
}

/** The shim's healthcheck: the check's argv, its timers, and where it records State.Health. */
function healthFor(rec: ContainerRecord, containerDir: string) {
  const run = healthRun(rec.healthcheck)
  return run ? {...run, stateFile: healthFile(containerDir)} : undefined
}

/** Keeps why the start failed and docker's exit code for it (125 for ctr-ts's own errors), for `wait` and `inspect`. */
async function recordStartFailure(ctx: Context, rec: ContainerRecord, err: unknown): Promise<void> {
  const exitCode = err instanceof CtrError ? err.exitCode : 125
  const startFailure = {exitCode, error: err instanceof Error ? err.message : String(err), finishedAt: new Date().toISOString()}
  await containerTask(ctx, rec).record({startFailure}).catch(() => {})
}

async function startTask(ctx: Context, rec: ContainerRecord, opts: StartOptions): Promise<AttachClient | undefined> {
  let bridge: NetworkSetupInput['bridge']
  // A container on user-defined networks joins the rootless network holder's user namespace; one
  // that shares another container's network namespace joins that container's shim's.
  let holder: Holder | undefined
  let joinUserNs: number | undefined
  if (rec.network === 'bridge') {
    const attachments = await attachmentsOf(ctx, rec)
    const h = await trace.phase('network: holder', () => connectHolder({dir: ctx.run.netns, mapping: currentMapping(), containerId: rec.id}))
    holder = h
    joinUserNs = h.pid
    await setNetnsPath(ctx, rec, `/proc/${h.keeperPid}/ns/net`)
    // the networks are attached while the shim mounts the rootfs and the runtime creates the container
    bridge = {holder: h, attachments, attached: trace.phase('network: attach (in parallel)', () => attachNetworks(h, rec.id, rec.name, attachments))}
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
  const lowers = await lowerDirs(ctx.store, rec.diffIds)
  // Empty volumes get the image's content at their mount point first (docker's copy-up).
  await trace.phase('volumes: seed', () => seedVolumes(ctx.store, rec.mounts, lowers, (merged) => layersReadOnlyMount(ctx, rec, merged)))
  const mount = await rootfsMountCommand(ctx, rec)
  // the network holder's or the network-sharing container's user namespace, else --pid/--ipc container:X's
  const joinPath = joinUserNs !== undefined ? `/proc/${joinUserNs}/ns/user` : await refreshJoinedNamespaces(ctx, rec)
  const exitCommand = await autoRemoveExitCommand(ctx, rec)
  const netInput = (shimPid: number, containerPid: number): Parameters<typeof setupNetwork>[0] => ({
    network: rec.network,
    bridge,
    shimPid,
    containerPid,
    runDir: paths.runDir,
    ports: rec.ports,
    allowHostLoopback: rec.allowHostLoopback ?? ctx.config.network.allowHostLoopback,
    udpIdleTimeout: ctx.config.portProxy.udpIdleTimeout,
  })
  // With the shim's network namespace the helpers join it and live as long as the shim: they
  // are started as soon as it exists, while the shim mounts the rootfs and the runtime creates
  // the container.
  let early: Promise<Awaited<ReturnType<typeof setupNetwork>>> | undefined
  const onNetns = rec.shimNetns
    ? (shimPid: number) => {
        early = trace.phase('network setup (while the runtime creates)', () => setupNetwork(netInput(shimPid, shimPid)))
        early.catch(() => undefined) // awaited below
      }
    : undefined
  let created: Awaited<ReturnType<typeof task.create>>
  try {
    created = await trace.phase('task create', () => task.create({
      ...(joinPath ? {joinUserNs: joinPath} : {}),
      tty: rec.tty,
      stdin: rec.stdin,
      mount,
      exitCommand,
      health: healthFor(rec, paths.dir),
      logRotation: rec.logConfig?.maxSize !== undefined ? {maxSize: rec.logConfig.maxSize, maxFiles: rec.logConfig.maxFiles ?? 1} : undefined,
      restartPolicy: shimRestartArg(rec.restartPolicy),
      ownNetns: rec.shimNetns === true,
      onNetns,
      events: dieEventOptions(ctx.store, rec),
    }))
  } catch (err) {
    // the shim is gone: so are the helpers attached to its namespace; make sure
    const net = await early?.catch(() => undefined)
    for (const pid of net?.helperPids ?? []) killQuietly(pid)
    throw err
  }
  const client = await trace.phase('attach', () => task.attach())
  opts.beforeStart?.(client)
  try {
    // The container exists but has not started: give it its network before its process runs.
    const net = await (early ??
      trace.phase('network setup', () => setupNetwork(netInput(created.shimPid, rec.shimNetns ? created.shimPid : created.pid))))
    await task.record({helperPids: net.helperPids, ports: net.ports})
    // the shim journals `start` itself, so it always comes before the run's `die`
    await trace.phase('task start', () => task.start(client))
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
