/**
 * The container half of the engine facade: what a front end (the oclif commands, later the
 * Docker API service) can do with containers. Every function takes typed options and reports
 * through callbacks or the streams it is given; none writes to process.stdout/stderr itself.
 * Containers are named by id, unique id prefix or name.
 */
import type {Context} from '../context.js'
import {trace} from '../trace.js'
import {settleAutoRemove} from '../container/auto-remove.js'
import {createContainer, type CreateEvents} from '../container/create.js'
import {execInContainer, type ExecOptions} from '../container/exec.js'
import {removeContainer, signalContainer, stopContainer, waitForExit} from '../container/lifecycle.js'
import {type LogOptions, showLogs} from '../container/logs.js'
import type {CreateOptions} from '../container/options.js'
import {type ContainerRecord, containerPaths, findContainer} from '../container/record.js'
import {relaySession, type SessionOptions, type SessionResult} from '../container/session.js'
import {startContainer} from '../container/start.js'
import {containerStatus, type ContainerStatus, publishedPorts} from '../container/status.js'
import {containerTask} from '../container/task.js'
import {runHealthcheck} from '../container/health-run.js'
import {parseWaitCondition, waitForCondition} from '../container/wait-condition.js'
import {ConflictError, UsageError} from '../errors.js'
import type {PortMapping} from '../network/ports.js'
import {lowerDirs} from '../store/layers.js'
import {inspectLogConfig} from '../container/log-config.js'
import {diskUsage} from '../system/info.js'
import {readImageConfig, resolveImage} from '../store/images.js'
import {containerInspect, type ContainerInspect, type SpecMountLike} from '../container/inspect.js'
import {readFile} from 'node:fs/promises'
import {inspectMounts} from '../volume/mounts.js'
import {startAllRestartable} from '../container/restart-all.js'

export type {CreateEvents} from '../container/create.js'
export type {ExecOptions} from '../container/exec.js'
export type {LogOptions} from '../container/logs.js'
export type {CreateOptions} from '../container/options.js'
export type {ContainerRecord} from '../container/record.js'
export type {SessionIO, SessionOptions, SessionResult} from '../container/session.js'
export type {ContainerStatus} from '../container/status.js'
export type {HealthState} from '../container/health.js'
export {healthSuffix} from '../container/health.js'
export {WAIT_CONDITIONS} from '../container/wait-condition.js'
export type {PortMapping} from '../network/ports.js'

/** Creates a container (pulling its image first when missing); nothing runs yet. */
export function create(ctx: Context, opts: CreateOptions, events: CreateEvents = {}): Promise<ContainerRecord> {
  return createContainer(ctx, opts, events)
}

/** Starts a created or exited container in the background (no-op when it runs). */
export async function start(ctx: Context, container: string): Promise<void> {
  await startContainer(ctx, await findContainer(ctx, container), {attach: false})
}

/**
 * After a reboot or a logout: starts every `always` container, and every `unless-stopped` one
 * the user did not stop, that is not running. Reports each start (or its failure) and goes on.
 */
export function startRestartable(ctx: Context, report: (rec: ContainerRecord, err?: unknown) => void): Promise<void> {
  return startAllRestartable(ctx, report)
}

/** Session options, or a function of the container's record (its tty and stdin decide). */
export type SessionFor = SessionOptions | ((rec: ContainerRecord) => SessionOptions)

const sessionFor = (s: SessionFor, rec: ContainerRecord): SessionOptions => (typeof s === 'function' ? s(rec) : s)

/** Starts a container with the session attached from its first byte; resolves when it exits or the session detaches. */
export async function startAttached(ctx: Context, container: string | ContainerRecord, session: SessionFor): Promise<SessionResult> {
  const rec = typeof container === 'string' ? await findContainer(ctx, container) : container
  let result: Promise<SessionResult> | undefined
  const opts = sessionFor(session, rec)
  await startContainer(ctx, rec, {attach: true, beforeStart: (client) => (result = relaySession(client, opts))})
  const done = await trace.phase('session: until the exit code', () => result!)
  // --rm: the shim removed it; make sure, in case the shim was killed.
  if (!done.detached) await trace.phase('settle --rm', () => settleAutoRemove(ctx, rec))
  return done
}

export interface RunOptions {
  create: CreateOptions
  /** Run in the background; otherwise `session` is attached. */
  detach: boolean
  session?: SessionOptions
}

export type RunResult = {id: string; detached: true} | {id: string; detached: false; exitCode: number}

/** docker run: create, then start in the background or attached (the exit code of the container). */
export async function run(ctx: Context, opts: RunOptions, events: CreateEvents = {}): Promise<RunResult> {
  const rec = await trace.phase('create (image, record, spec, bundle)', () => createContainer(ctx, opts.create, events))
  if (opts.detach || !opts.session) {
    await startContainer(ctx, rec, {attach: false})
    return {id: rec.id, detached: true}
  }
  const result = await startAttached(ctx, rec, opts.session)
  return result.detached ? {id: rec.id, detached: true} : {id: rec.id, detached: false, exitCode: result.exitCode}
}

/** Attaches a session to a running container. */
export async function attach(ctx: Context, container: string, session: SessionFor): Promise<SessionResult> {
  const rec = await findContainer(ctx, container)
  if (!containerStatus(ctx, rec).running) throw new ConflictError(`container ${rec.name} is not running`)
  const opts = sessionFor(session, rec)
  const client = await containerTask(ctx, rec).attach()
  return relaySession(client, opts)
}

/** docker stop: the stop signal, SIGKILL after `timeoutSec` (default: the container's --stop-timeout, else 10; -1: never). */
export async function stop(ctx: Context, container: string, timeoutSec?: number): Promise<void> {
  const rec = await findContainer(ctx, container)
  await stopContainer(ctx, rec, timeoutSec ?? rec.stopTimeout ?? 10)
}

/** docker kill: a signal (name or number) to the container's init. */
export async function kill(ctx: Context, container: string, signal: string | number): Promise<void> {
  await signalContainer(ctx, await findContainer(ctx, container), signal)
}

/**
 * docker wait: the exit code once the container has exited; with a condition (docker's
 * not-running, next-exit, removed; podman's healthy, unhealthy: then -1) once that holds. A
 * container that never started (created only, or its start failed before it ran) is not running:
 * like docker's default `not-running` condition, that returns at once with its exit code.
 */
export async function wait(ctx: Context, container: string, condition?: string): Promise<number> {
  const rec = await findContainer(ctx, container)
  if (condition !== undefined) return waitForCondition(ctx, rec, parseWaitCondition(condition))
  const status = containerStatus(ctx, rec)
  if (status.status === 'created') return status.exit?.exitCode ?? 0
  return (await waitForExit(ctx, rec))?.exitCode ?? 0
}

/** podman healthcheck run: one check now, recorded; its exit code and the status after it. */
export async function healthcheck(ctx: Context, container: string): Promise<{exitCode: number; status: string}> {
  return runHealthcheck(ctx, await findContainer(ctx, container))
}

/** docker rm: refuses a running container unless `force`; `volumes` removes its anonymous volumes too. */
export async function remove(ctx: Context, container: string, opts: {force: boolean; volumes?: boolean}): Promise<void> {
  await removeContainer(ctx, await findContainer(ctx, container), opts.force, {volumes: opts.volumes === true})
}

/** docker exec: the exit code of the process (128+N when killed by signal N). */
export async function exec(ctx: Context, container: string, opts: ExecOptions): Promise<number> {
  if (opts.args.length === 0) throw new UsageError('exec needs a command to run')
  return execInContainer(ctx, await findContainer(ctx, container), opts)
}

/** docker logs: the recorded output through `opts.write`, following it until exit with `follow`. */
export async function logs(ctx: Context, container: string, opts: LogOptions): Promise<void> {
  await showLogs(ctx, await findContainer(ctx, container), opts)
}

// docker ps and ps -s: in container-list.ts, which `ps` loads without the rest of this facade.
export {type ContainerSummary, list, type ListOptions, writableLayerSize} from './container-list.js'

/** Published ports: the host ports actually bound while it runs, else what was asked for. */
export async function ports(ctx: Context, container: string): Promise<PortMapping[]> {
  return publishedPorts(ctx, await findContainer(ctx, container))
}

/** docker inspect's document for one container (docker's ContainerJSON, container/inspect.ts). */
export async function inspect(ctx: Context, container: string, opts: {size?: boolean} = {}): Promise<ContainerInspect> {
  const rec = await findContainer(ctx, container)
  const status = containerStatus(ctx, rec)
  const paths = containerPaths(ctx, rec.id)
  const spec = await readFile(paths.spec, 'utf8')
    .then((t) => JSON.parse(t) as {mounts?: SpecMountLike[]})
    .catch(() => ({mounts: []}))
  let imageEntrypoint: string[] | null | undefined
  let imageSize = 0
  try {
    const image = await resolveImage(ctx.store, rec.image)
    imageSize = image.size
    imageEntrypoint = (await readImageConfig(ctx.store, image)).config?.Entrypoint ?? null
  } catch {
    // the image was removed since: Path and Args still tell the command
  }
  const rw = opts.size ? await diskUsage(paths.upper) : 0
  return containerInspect({
    rec,
    status,
    boundPorts: publishedPorts(ctx, rec, status),
    paths,
    specMounts: spec.mounts ?? [],
    recordMounts: inspectMounts(rec.mounts),
    imageEntrypoint,
    lowerDirs: await lowerDirs(ctx.store, rec.diffIds).catch(() => []),
    logConfig: inspectLogConfig(rec.logConfig),
    sizes: opts.size ? {rw, rootFs: rw + imageSize} : undefined,
  })
}
export type {ContainerInspect}
export {containerCommand} from '../container/inspect.js'

export type {CommitOptions, CommittedImage} from '../image/commit.js'

/** `commit`: the container's changes as a new image layer on top of its image. */
export async function commitContainer(ctx: Context, container: string, opts: import('../image/commit.js').CommitOptions): Promise<import('../image/commit.js').CommittedImage> {
  const rec = await findContainer(ctx, container)
  const commit = await import('../image/commit.js')
  return commit.commitContainer(ctx, {name: rec.name, image: rec.image, diffIds: rec.diffIds, upper: containerPaths(ctx, rec.id).upper}, opts)
}

/** `export`: the container's root filesystem (its image's layers and its changes, merged) as a tar to `out`. */
export async function exportContainer(ctx: Context, container: string, out: NodeJS.WritableStream): Promise<void> {
  const rec = await findContainer(ctx, container)
  const {startDiffTar} = await import('../layer/diff-tar-run.js')
  const {pipeline} = await import('node:stream/promises')
  const dirs = [containerPaths(ctx, rec.id).upper, ...(await lowerDirs(ctx.store, rec.diffIds))]
  const writer = startDiffTar({mode: 'rootfs', dirs})
  await Promise.all([pipeline(writer.tar, out as import('node:stream').Writable), writer.done])
}

/**
 * The API's attach-before-start: starts the container with `session` attached from its first
 * byte; resolves once it runs, `done` gets the session's end (exit code or detach).
 */
export async function startWithSession(ctx: Context, container: string, session: SessionFor, done: (r: SessionResult) => void): Promise<void> {
  const rec = await findContainer(ctx, container)
  const opts = sessionFor(session, rec)
  await startContainer(ctx, rec, {attach: true, beforeStart: (client) => void relaySession(client, opts).then(done)})
}

/** The TTY size of a running container's terminal (docker's resize). */
export async function resize(ctx: Context, container: string, rows: number, cols: number): Promise<void> {
  const rec = await findContainer(ctx, container)
  if (!containerStatus(ctx, rec).running) throw new ConflictError(`container ${rec.name} is not running`)
  const client = await containerTask(ctx, rec).attach()
  try {
    client.resize(rows, cols)
    await client.drained()
  } finally {
    client.close()
  }
}

/** A container's record by id, unique id prefix or name (NotFoundError otherwise). */
export function record(ctx: Context, container: string): Promise<ContainerRecord> {
  return findContainer(ctx, container)
}

/** Its status now (running, exit, health). */
export function status(ctx: Context, rec: ContainerRecord): ContainerStatus {
  return containerStatus(ctx, rec)
}
