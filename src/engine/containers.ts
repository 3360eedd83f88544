/**
 * The container half of the engine facade: what a front end (the oclif commands, later the
 * Docker API service) can do with containers. Every function takes typed options and reports
 * through callbacks or the streams it is given; none writes to process.stdout/stderr itself.
 * Containers are named by id, unique id prefix or name.
 */
import type {Context} from '../context.js'
import {settleAutoRemove} from '../container/auto-remove.js'
import {createContainer, type CreateEvents} from '../container/create.js'
import {execInContainer, type ExecOptions} from '../container/exec.js'
import {removeContainer, signalContainer, stopContainer, waitForExit} from '../container/lifecycle.js'
import {type LogOptions, showLogs} from '../container/logs.js'
import type {CreateOptions} from '../container/options.js'
import {type ContainerRecord, containerPaths, findContainer, listContainers} from '../container/record.js'
import {relaySession, type SessionOptions, type SessionResult} from '../container/session.js'
import {startContainer} from '../container/start.js'
import {containerStatus, type ContainerStatus, publishedPorts} from '../container/status.js'
import {containerTask} from '../container/task.js'
import {ConflictError, UsageError} from '../errors.js'
import type {PortMapping} from '../network/ports.js'
import {lowerDirs} from '../store/layers.js'
import {inspectLogConfig} from '../container/log-config.js'

export type {CreateEvents} from '../container/create.js'
export type {ExecOptions} from '../container/exec.js'
export type {LogOptions} from '../container/logs.js'
export type {CreateOptions} from '../container/options.js'
export type {ContainerRecord} from '../container/record.js'
export type {SessionIO, SessionOptions, SessionResult} from '../container/session.js'
export type {ContainerStatus} from '../container/status.js'
export type {PortMapping} from '../network/ports.js'

/** Creates a container (pulling its image first when missing); nothing runs yet. */
export function create(ctx: Context, opts: CreateOptions, events: CreateEvents = {}): Promise<ContainerRecord> {
  return createContainer(ctx, opts, events)
}

/** Starts a created or exited container in the background (no-op when it runs). */
export async function start(ctx: Context, container: string): Promise<void> {
  await startContainer(ctx, await findContainer(ctx, container), {attach: false})
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
  const done = await result!
  // --rm: the shim removed it; make sure, in case the shim was killed.
  if (!done.detached) await settleAutoRemove(ctx, rec)
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
  const rec = await createContainer(ctx, opts.create, events)
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

/** docker stop: the stop signal, SIGKILL after `timeoutSec`. */
export async function stop(ctx: Context, container: string, timeoutSec: number): Promise<void> {
  await stopContainer(ctx, await findContainer(ctx, container), timeoutSec)
}

/** docker kill: a signal (name or number) to the container's init. */
export async function kill(ctx: Context, container: string, signal: string | number): Promise<void> {
  await signalContainer(ctx, await findContainer(ctx, container), signal)
}

/** docker wait: the exit code once the container has exited. */
export async function wait(ctx: Context, container: string): Promise<number> {
  const exit = await waitForExit(ctx, await findContainer(ctx, container))
  return exit?.exitCode ?? 0
}

/** docker rm: refuses a running container unless `force`. */
export async function remove(ctx: Context, container: string, opts: {force: boolean}): Promise<void> {
  await removeContainer(ctx, await findContainer(ctx, container), opts.force)
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

export interface ContainerSummary {
  record: ContainerRecord
  status: ContainerStatus
  ports: PortMapping[]
}

/** docker ps: running containers, or all with `all`; newest first. */
export async function list(ctx: Context, opts: {all: boolean}): Promise<ContainerSummary[]> {
  const out: ContainerSummary[] = []
  for (const record of await listContainers(ctx)) {
    const status = containerStatus(ctx, record)
    if (opts.all || status.running) out.push({record, status, ports: publishedPorts(ctx, record, status)})
  }
  return out
}

/** Published ports: the host ports actually bound while it runs, else what was asked for. */
export async function ports(ctx: Context, container: string): Promise<PortMapping[]> {
  return publishedPorts(ctx, await findContainer(ctx, container))
}

/** docker inspect's document for one container. */
export async function inspect(ctx: Context, container: string) {
  const rec = await findContainer(ctx, container)
  const s = containerStatus(ctx, rec)
  const paths = containerPaths(ctx, rec.id)
  // booleans the record left out (flags not given) are false, never missing
  return {
    Id: rec.id,
    Name: rec.name,
    Created: rec.created,
    Path: rec.args[0],
    Args: rec.args.slice(1),
    State: {
      Status: s.status,
      Running: s.running,
      Pid: s.running ? (s.containerPid ?? 0) : 0,
      ShimPid: s.running ? (s.shimPid ?? 0) : 0,
      ExitCode: s.exit?.exitCode ?? 0,
      StartedAt: s.startedAt ?? '',
      FinishedAt: s.exit?.finishedAt ?? '',
    },
    Image: rec.image,
    ImageName: rec.imageRef,
    LogPath: paths.log,
    Config: {
      Hostname: rec.hostname,
      User: rec.user,
      Env: rec.env,
      Cmd: rec.args,
      WorkingDir: rec.cwd,
      Tty: rec.tty === true,
      OpenStdin: rec.stdin === true,
      StopSignal: rec.stopSignal,
      Labels: rec.labels,
    },
    HostConfig: {
      AutoRemove: rec.autoRemove === true,
      Init: rec.init === true,
      ReadonlyRootfs: rec.readOnly === true,
      // docker names the (first) user-defined network, or container:ID
      NetworkMode: rec.networks?.[0]?.name ?? (rec.network === 'container' ? `container:${rec.netnsContainer ?? ''}` : rec.network),
      Runtime: rec.runtime,
      PortBindings: publishedPorts(ctx, rec, s),
      LogConfig: inspectLogConfig(rec.logConfig),
      // docker's form; records of older versions had no filter and no-new-privileges on.
      SecurityOpt: rec.security
        ? [`seccomp=${rec.security.seccomp}`, `no-new-privileges=${rec.security.noNewPrivileges}`]
        : ['seccomp=unconfined', 'no-new-privileges=true'],
      Seccomp: rec.security ? {Profile: rec.security.seccomp, File: rec.security.seccompFile ?? ''} : {Profile: 'unconfined', File: ''},
    },
    NetworkSettings: {
      Networks: Object.fromEntries(
        (rec.networks ?? []).map((n) => [n.name, {NetworkID: n.id, IPAddress: n.ip, Aliases: [rec.id.slice(0, 12), ...n.aliases], DNSNames: [rec.name, rec.id.slice(0, 12), ...n.aliases]}]),
      ),
    },
    GraphDriver: {Name: 'fuse-overlayfs', Data: {LowerDir: (await lowerDirs(ctx.store, rec.diffIds).catch(() => [])).join(':'), UpperDir: paths.upper, WorkDir: paths.work, MergedDir: paths.merged}},
  }
}
export type ContainerInspect = Awaited<ReturnType<typeof inspect>>
