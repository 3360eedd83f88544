import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {NotFoundError, UsageError} from '../errors.js'
import type {NetworkName} from '../network/mode.js'
import type {PortMapping} from '../network/ports.js'
import {diffIdOfLegacyLowerDir} from '../store/layers.js'
import {writeJsonAtomic} from '../runtime/json-file.js'
import type {TaskRecord} from '../runtime/task.js'

// Moved down to where every stage can import them; re-exported for existing callers.
export type {PortMapping} from '../network/ports.js'
export type {ExitInfo} from '../runtime/status.js'
import type {LogConfig} from './log-config.js'
import type {HealthConfig} from './health.js'
import type {ContainerMount} from '../volume/mounts.js'
import type {RestartPolicy} from './restart-policy.js'

/** What `create` decided; immutable afterwards. */
export interface ContainerRecord {
  id: string
  name: string
  /** Image id (config digest) and the reference the user gave. */
  image: string
  imageRef: string
  created: string
  /** The container's process, as in the generated spec. */
  args: string[]
  env: string[]
  cwd: string
  user: string
  hostname: string
  tty: boolean
  stdin: boolean
  autoRemove: boolean
  init: boolean
  readOnly: boolean
  runtime: string
  network: NetworkName
  /** bridge: the user-defined networks, in --network order (the first gives DNS and -p). */
  networks?: ContainerNetwork[]
  /** container: the container whose network namespace this one joins. */
  netnsContainer?: string
  /** slirp4netns: the host's 127.0.0.1 reachable at 10.0.2.2 (absent in records of older versions). */
  allowHostLoopback?: boolean
  /**
   * The image's layers (diff ids, bottom first as in the image config). The store maps them to
   * lower directories (store/layers.ts lowerDirs) and keeps them while the lease
   * `containerLeaseId(id)` holds them, even after the image is removed.
   */
  diffIds: string[]
  stopSignal: string
  /** -p publications, resolved. */
  ports: PortMapping[]
  labels: Record<string, string>
  /** Seccomp (default, unconfined or a profile's path) and no-new-privileges; absent in records of older versions. */
  security?: {seccomp: string; seccompFile?: string; noNewPrivileges: boolean}
  /** Log rotation (--log-opt, logs.* defaults); absent in records of older versions: no limit. */
  logConfig?: LogConfig
  /** docker's Config.Healthcheck: the --health-* flags merged over the image's (absent: none). */
  healthcheck?: HealthConfig
  // --- docker parity run/create flags (flags helper) ---
  /** --stop-timeout: seconds `stop` waits before SIGKILL when not told (-1: forever). */
  stopTimeout?: number
  /** --add-host, --dns, --privileged, ... as docker's inspect HostConfig shows them. */
  hostConfig?: RunHostConfig
  /** --pid/--ipc container:X: the ids of the containers whose namespaces it shares. */
  joinNamespaces?: {pid?: string; ipc?: string}
  /** Volumes and bind mounts (-v, --mount, image VOLUMEs, --volumes-from); absent in records of older versions. */
  mounts?: ContainerMount[]
  /** --restart (absent in records of older versions: no). */
  restartPolicy?: RestartPolicy
  /** The shim holds the network namespace (restart policies on slirp4netns): it outlives the process. */
  shimNetns?: boolean
  /** The rootfs driver (rootfs.driver when created): `overlay` is the kernel's; absent: fuse-overlayfs. */
  rootfsDriver?: 'overlay'
}

/** A container's place on a user-defined network. */
export interface ContainerNetwork {
  name: string
  /** The network's id: a network removed and created again under the name is another one. */
  id: string
  ip: string
  aliases: string[]
}

/** What changes while a container lives: the Task's record plus the container's own keys. */
export interface ContainerState extends TaskRecord {
  /** The network helper processes (slirp4netns, port proxy). */
  helperPids?: number[]
  /** Published ports with the host ports actually bound. */
  ports?: PortMapping[]
  /** The last start failed before the process ran (docker keeps its exit code: 127 not found, 126 not invokable). */
  startFailure?: {exitCode: number; error: string; finishedAt: string}
}

export function containerPaths(ctx: Context, id: string) {
  // joined once; the rest appended (path.join normalizes every time: ps with 50 containers called it thousands of times)
  const dir = join(ctx.store.containers, id)
  const runDir = join(ctx.run.containers, id.slice(0, 12))
  return {
    dir,
    record: `${dir}/container.json`,
    state: `${dir}/state.json`,
    exit: `${dir}/exit.json`,
    log: `${dir}/ctr.log`,
    bundle: `${dir}/bundle`,
    spec: `${dir}/bundle/config.json`,
    upper: `${dir}/upper`,
    work: `${dir}/work`,
    merged: `${dir}/merged`,
    etc: `${dir}/etc`,
    runDir,
    attachSocket: `${runDir}/attach.sock`,
    shimLog: `${dir}/shim.log`,
    restart: `${dir}/restart.json`,
  }
}
export type ContainerPaths = ReturnType<typeof containerPaths>

/** The store lease by which a container holds its image's layers (taken at create, released at rm). */
export function containerLeaseId(id: string): string {
  return `container-${id}`
}

/**
 * A record as read from disk. Records of ctr-ts 0.x name their lower directories by path
 * (`lowerDirs`, topmost first) instead of `diffIds`: they are read as if migrated (the store
 * upgrade in migrate.ts rewrites them once). Undefined for anything else.
 */
export function parseRecord(raw: unknown): ContainerRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Partial<ContainerRecord> & {lowerDirs?: unknown}
  if (typeof r.id !== 'string' || typeof r.name !== 'string' || typeof r.image !== 'string') return undefined
  if (Array.isArray(r.diffIds)) return r as ContainerRecord
  const {lowerDirs, ...rest} = r
  if (!Array.isArray(lowerDirs)) return undefined
  const diffIds = legacyDiffIds(lowerDirs)
  return diffIds ? ({...rest, diffIds} as ContainerRecord) : undefined
}

/** Diff ids (bottom first) of a 0.x record's lower directories (topmost first); `…/empty` alone is no layer. */
function legacyDiffIds(lowerDirs: unknown[]): string[] | undefined {
  const ids: string[] = []
  for (const dir of lowerDirs) {
    if (typeof dir !== 'string') return undefined
    const id = diffIdOfLegacyLowerDir(dir)
    if (id) ids.push(id)
    else if (lowerDirs.length !== 1) return undefined
  }
  return ids.reverse()
}

export function newContainerId(): string {
  return randomBytes(32).toString('hex')
}

function readRecordSync(path: string): ContainerRecord | undefined {
  return parseRecord(readJsonSync<unknown>(path))
}

function readJsonSync<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T
  } catch {
    return undefined
  }
}

export async function saveRecord(ctx: Context, rec: ContainerRecord): Promise<void> {
  const p = containerPaths(ctx, rec.id)
  await mkdir(p.dir, {recursive: true, mode: 0o700})
  await writeJsonAtomic(p.record, rec)
}

export function readState(ctx: Context, id: string): ContainerState {
  return readJsonSync<ContainerState>(containerPaths(ctx, id).state) ?? {}
}

export async function listContainers(ctx: Context): Promise<ContainerRecord[]> {
  let ids: string[]
  try {
    ids = await readdir(ctx.store.containers)
  } catch {
    return []
  }
  // Synchronous reads: a record is a few KiB, and one await per record (a thread-pool round trip
  // each) made `ps` with 50 containers wait tens of ms for nothing.
  const out: ContainerRecord[] = []
  for (const id of ids) {
    // a container being created or removed right now has no (valid) record: not listed
    const rec = readRecordSync(containerPaths(ctx, id).record)
    if (rec) out.push(rec)
  }
  // ISO timestamps: code-unit order (localeCompare's first call starts ICU's collator, 10-40 ms)
  return out.sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0))
}

/** Finds a container by full id, unique id prefix, or name (docker's rules). */
export async function findContainer(ctx: Context, idOrName: string): Promise<ContainerRecord> {
  if (!idOrName) throw new UsageError('container name or id must not be empty')
  const nameFile = join(ctx.store.names, idOrName)
  if (existsSync(nameFile)) {
    const id = readFileSync(nameFile, 'utf8').trim()
    const rec = readRecordSync(containerPaths(ctx, id).record)
    if (rec) return rec
  }
  if (/^[0-9a-f]{64}$/.test(idOrName)) {
    // a full id (no name or other id can match it): its own record, without reading every other one
    const rec = readRecordSync(containerPaths(ctx, idOrName).record)
    if (rec?.id === idOrName) return rec
    throw new NotFoundError(`no such container: ${idOrName}`)
  }
  const all = await listContainers(ctx)
  const exact = all.find((c) => c.id === idOrName || c.name === idOrName)
  if (exact) return exact
  if (/^[0-9a-f]+$/.test(idOrName)) {
    const matches = all.filter((c) => c.id.startsWith(idOrName))
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1) throw new UsageError(`multiple containers match id prefix ${idOrName}: be more specific`)
  }
  throw new NotFoundError(`no such container: ${idOrName}`)
}

/** docker's HostConfig fields for the parity flags, as `inspect` shows them. */
export interface RunHostConfig {
  ExtraHosts: string[]
  Dns: string[]
  DnsSearch: string[]
  DnsOptions: string[]
  Privileged: boolean
  PidMode: string
  IpcMode: string
  UTSMode: string
  ShmSize: number
  Sysctls: Record<string, string>
  GroupAdd: string[]
  Ulimits: Array<{Name: string; Soft: number; Hard: number}>
  Devices: Array<{PathOnHost: string; PathInContainer: string; CgroupPermissions: string}>
  Mounts: Array<{Type: string; Source: string; Target: string; ReadOnly: boolean}>
}

/**
 * Whether a container with this id exists: its record, or a create in progress (the `creating`
 * marker). A directory with neither is what a killed create left: not a user of volumes or
 * addresses. An id that is not a container id is not ours to judge (true).
 */
export function containerExists(ctx: Context, id: string): boolean {
  if (!/^[a-f0-9]{64}$/.test(id)) return true
  const paths = containerPaths(ctx, id)
  return existsSync(paths.record) || existsSync(join(paths.dir, 'creating'))
}
