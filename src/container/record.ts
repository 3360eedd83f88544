import {randomBytes} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, readdir, readFile, rename, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {NotFoundError, UsageError} from '../errors.js'
import type {NetworkName} from '../network/mode.js'
import type {LogConfig} from './log-config.js'

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
  /** slirp4netns: the host's 127.0.0.1 reachable at 10.0.2.2 (absent in records of older versions). */
  allowHostLoopback?: boolean
  /** Unpacked layer directories, topmost first (fuse-overlayfs lowerdir order). */
  lowerDirs: string[]
  stopSignal: string
  /** -p publications, resolved. */
  ports: PortMapping[]
  labels: Record<string, string>
  /** Log rotation (--log-opt, logs.* defaults); absent in records of older versions: no limit. */
  logConfig?: LogConfig
}

export interface PortMapping {
  hostIp: string
  hostPort: number
  containerPort: number
  protocol: 'tcp' | 'udp'
}

/** What changes while a container lives; written by the CLI at start. */
export interface ContainerState {
  shimPid?: number
  /** Kernel start time of the shim (field 22 of /proc/PID/stat): guards against pid reuse. */
  shimStartTime?: string
  containerPid?: number
  startedAt?: string
  /** The network helper processes (slirp4netns, port proxy). */
  helperPids?: number[]
  /** Published ports with the host ports actually bound. */
  ports?: PortMapping[]
}

export interface ExitInfo {
  exitCode: number
  signal: number | null
  finishedAt: string
}

export function containerPaths(ctx: Context, id: string) {
  const dir = join(ctx.store.containers, id)
  const runDir = join(ctx.run.containers, id.slice(0, 12))
  return {
    dir,
    record: join(dir, 'container.json'),
    state: join(dir, 'state.json'),
    exit: join(dir, 'exit.json'),
    log: join(dir, 'ctr.log'),
    bundle: join(dir, 'bundle'),
    spec: join(dir, 'bundle', 'config.json'),
    upper: join(dir, 'upper'),
    work: join(dir, 'work'),
    merged: join(dir, 'merged'),
    etc: join(dir, 'etc'),
    runDir,
    attachSocket: join(runDir, 'attach.sock'),
    shimLog: join(dir, 'shim.log'),
  }
}
export type ContainerPaths = ReturnType<typeof containerPaths>

export function newContainerId(): string {
  return randomBytes(32).toString('hex')
}

/** Writes JSON atomically: temp file then rename, so readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
  await rename(tmp, path)
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

export async function saveState(ctx: Context, id: string, state: ContainerState): Promise<void> {
  await writeJsonAtomic(containerPaths(ctx, id).state, state)
}

export function readExit(ctx: Context, id: string): ExitInfo | undefined {
  return readJsonSync<ExitInfo>(containerPaths(ctx, id).exit)
}

export async function listContainers(ctx: Context): Promise<ContainerRecord[]> {
  let ids: string[]
  try {
    ids = await readdir(ctx.store.containers)
  } catch {
    return []
  }
  const out: ContainerRecord[] = []
  for (const id of ids) {
    try {
      out.push(JSON.parse(await readFile(containerPaths(ctx, id).record, 'utf8')) as ContainerRecord)
    } catch {
      // a container being created or removed right now: not listed
    }
  }
  return out.sort((a, b) => b.created.localeCompare(a.created))
}

/** Finds a container by full id, unique id prefix, or name (docker's rules). */
export async function findContainer(ctx: Context, idOrName: string): Promise<ContainerRecord> {
  if (!idOrName) throw new UsageError('container name or id must not be empty')
  const nameFile = join(ctx.store.names, idOrName)
  if (existsSync(nameFile)) {
    const id = readFileSync(nameFile, 'utf8').trim()
    const rec = readJsonSync<ContainerRecord>(containerPaths(ctx, id).record)
    if (rec) return rec
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
