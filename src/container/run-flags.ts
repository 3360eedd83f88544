import {accessSync, constants, existsSync, lstatSync, readdirSync, statSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {ConflictError, UsageError} from '../errors.js'
import {SLIRP} from '../network/etc-files.js'
import type {NetworkName} from '../network/mode.js'
import {parseSignal, signalName, type BindMount, type TmpfsMount} from '../spec/flags.js'
import type {NamespaceChoice, RuntimeSpec, SpecInput} from '../spec/generate.js'
import {
  type NamespaceMode,
  type PullPolicy,
  parseAddHost,
  parseDevice,
  parseDns,
  parseDnsSearch,
  parseLabelFile,
  parseMount,
  parseNamespaceMode,
  parsePullPolicy,
  parseShmSize,
  parseSysctl,
  parseUlimit,
} from '../spec/run-flags.js'
import type {CreateOptions} from './options.js'
import {type ContainerRecord, containerPaths, findContainer, type RunHostConfig} from './record.js'
import {containerStatus} from './status.js'


export interface ParityFlags {
  pull: PullPolicy
  /** `NAME IP` pairs for /etc/hosts. */
  extraHosts: Array<{name: string; ip: string}>
  dns: {dns: string[]; search: string[]; options: string[]}
  binds: BindMount[]
  tmpfs: TmpfsMount[]
  fileLabels: string[]
  stopSignal?: string
  /** Containers whose namespaces are shared (ids). */
  joinNamespaces: {pid?: string; ipc?: string}
  spec: Pick<SpecInput, 'ulimits' | 'shmSize' | 'devices' | 'pidNamespace' | 'ipcNamespace' | 'utsNamespace' | 'sysctls' | 'privileged' | 'shmSource'>
  hostConfig: Omit<RunHostConfig, 'GroupAdd'>
}

/** Host device nodes that runc already gives every container, or that ctr-ts mounts itself. */
const OWN_DEVICES = new Set(['null', 'zero', 'full', 'random', 'urandom', 'tty', 'console', 'ptmx', 'pts', 'shm', 'mqueue', 'fd', 'stdin', 'stdout', 'stderr', 'core'])

function canOpen(path: string, permissions: string): boolean {
  let mode = constants.F_OK
  if (permissions.includes('r')) mode |= constants.R_OK
  if (permissions.includes('w')) mode |= constants.W_OK
  try {
    accessSync(path, mode)
    return true
  } catch {
    return false
  }
}

/**
 * --device: a rootless user cannot create device nodes, so the host's node is bind-mounted, which
 * is only useful (and only allowed) when the user can open it with the permissions asked for.
 */
function resolveDevice(spec: string): NonNullable<SpecInput['devices']>[number] {
  const d = parseDevice(spec)
  let st
  try {
    st = statSync(d.host)
  } catch {
    throw new UsageError(`error gathering device information while adding device "${d.host}": no such file or directory`)
  }
  if (!st.isCharacterDevice() && !st.isBlockDevice() && !st.isDirectory()) throw new UsageError(`--device ${d.host}: not a device node`)
  if (!canOpen(d.host, d.permissions.replace('m', ''))) {
    throw new UsageError(
      `--device ${d.host}: ${process.getuid?.() === 0 ? 'cannot open it' : 'this user cannot open it'} with permissions "${d.permissions.replace('m', '') || 'r'}"; a rootless container can only get devices its user may open`,
    )
  }
  return {...d, ...(st.isDirectory() ? {directory: true} : {})}
}

/** --privileged: every device node directly under /dev this user can open read-write (as rootless podman does). */
function privilegedDevices(): NonNullable<SpecInput['devices']> {
  const out: NonNullable<SpecInput['devices']> = []
  let names: string[]
  try {
    names = readdirSync('/dev')
  } catch {
    return out
  }
  for (const name of names.sort()) {
    if (OWN_DEVICES.has(name)) continue
    const path = join('/dev', name)
    try {
      const st = lstatSync(path)
      if (!st.isCharacterDevice() && !st.isBlockDevice()) continue
    } catch {
      continue
    }
    if (canOpen(path, 'rw')) out.push({host: path, container: path, permissions: 'rwm'})
  }
  return out
}

/** A namespace of another running container (--pid/--ipc container:X). */
async function joinNamespace(ctx: Context, flag: 'pid' | 'ipc', mode: NamespaceMode): Promise<{ns: NamespaceChoice; shm?: string; container?: string}> {
  if (mode.kind === 'host') return {ns: {kind: 'host'}}
  if (mode.kind !== 'container') return {ns: {kind: 'private'}}
  const other = await findContainer(ctx, mode.container)
  const st = containerStatus(ctx, other)
  if (!st.running || !st.containerPid) {
    throw new ConflictError(`cannot join the ${flag} namespace of container ${other.name}: it is not running`)
  }
  const path = `/proc/${st.containerPid}/ns/${flag}`
  if (!existsSync(path)) throw new ConflictError(`cannot join the ${flag} namespace of container ${other.name}: its process is gone`)
  if (flag === 'ipc' && other.hostConfig?.IpcMode !== 'shareable') {
    // as docker: /dev/shm can only be shared when the donor keeps it where others can bind it
    throw new ConflictError(`cannot join the IPC namespace of container ${other.name}: non-shareable IPC (create it with --ipc shareable)`)
  }
  return {ns: {kind: 'join', path}, container: other.id, ...(flag === 'ipc' ? {shm: shareableShmDir(ctx, other.id)} : {})}
}

/** /dev/shm of a container created with --ipc shareable: a directory of its own, bound by those that join it. */
export function shareableShmDir(ctx: Context, id: string): string {
  return join(containerPaths(ctx, id).dir, 'shm')
}

/**
 * Before a container that shares another's pid or IPC namespace starts: that container must run,
 * its namespaces' current paths go into the bundle (it may have been restarted since create), and
 * the new container runs in its user namespace (returned: /proc/PID/ns/user).
 */
export async function refreshJoinedNamespaces(ctx: Context, rec: ContainerRecord): Promise<string | undefined> {
  const joins = rec.joinNamespaces
  if (!joins || (joins.pid === undefined && joins.ipc === undefined)) return undefined
  let pid: number | undefined
  for (const [flag, id] of Object.entries(joins) as Array<['pid' | 'ipc', string]>) {
    const other = await findContainer(ctx, id).catch(() => {
      throw new ConflictError(`cannot join the ${flag} namespace of container ${id.slice(0, 12)}: it no longer exists`)
    })
    const st = containerStatus(ctx, other)
    if (!st.running || !st.containerPid) throw new ConflictError(`cannot join the ${flag} namespace of container ${other.name}: it is not running`)
    pid = st.containerPid
  }
  const specPath = containerPaths(ctx, rec.id).spec
  const spec = JSON.parse(await readFile(specPath, 'utf8')) as RuntimeSpec
  for (const ns of spec.linux.namespaces) {
    if ((ns.type === 'pid' && joins.pid) || (ns.type === 'ipc' && joins.ipc)) ns.path = `/proc/${pid}/ns/${ns.type}`
  }
  await writeFile(specPath, JSON.stringify(spec, null, 2) + '\n', {mode: 0o600})
  return `/proc/${pid}/ns/user`
}

function modeText(spec: string | undefined): string {
  return spec === undefined || spec === '' ? 'private' : spec
}

/** Parses and checks the docker parity flags of `create`/`run` (nothing is written). */
export async function parseParityFlags(ctx: Context, opts: CreateOptions, network: NetworkName): Promise<ParityFlags> {
  const pull = parsePullPolicy(opts.pull)
  const extraHosts = (opts.addHosts ?? []).map((h) => parseAddHost(h, SLIRP.gateway))
  const dns = {dns: (opts.dns ?? []).map(parseDns), search: (opts.dnsSearch ?? []).map(parseDnsSearch), options: opts.dnsOptions ?? []}
  // docker's conflicts: the host's resolv.conf and hostname are the host's
  if (network === 'host' && dns.dns.length + dns.search.length + dns.options.length > 0) {
    throw new UsageError('conflicting options: --dns, --dns-search and --dns-option cannot be used with --network host (the container uses the host\'s resolv.conf)')
  }
  if (opts.uts === 'host' && opts.hostname !== undefined) throw new UsageError('conflicting options: --hostname cannot be used with --uts host')
  const binds: BindMount[] = []
  const tmpfs: TmpfsMount[] = []
  const mountsShown: RunHostConfig['Mounts'] = []
  for (const spec of opts.mounts ?? []) {
    const m = parseMount(spec, existsSync)
    if (m.type === 'bind') {
      binds.push(m.bind)
      mountsShown.push({Type: 'bind', Source: m.bind.source, Target: m.bind.destination, ReadOnly: m.bind.readOnly})
    } else if (m.type === 'tmpfs') {
      tmpfs.push(m.tmpfs)
      mountsShown.push({Type: 'tmpfs', Source: '', Target: m.tmpfs.destination, ReadOnly: m.tmpfs.options.includes('ro')})
    } else {
      // type=volume is the volume stage's (CreateOptions.volumeMounts, volume/mounts.ts): shown only
      mountsShown.push({Type: 'volume', Source: m.volume.name ?? '', Target: m.volume.destination, ReadOnly: m.volume.readOnly})
    }
  }
  const ulimits = (opts.ulimits ?? []).map(parseUlimit)
  const shmSize = opts.shmSize !== undefined ? parseShmSize(opts.shmSize) : undefined
  const pidMode = parseNamespaceMode('pid', opts.pid)
  const ipcMode = parseNamespaceMode('ipc', opts.ipc)
  const utsMode = parseNamespaceMode('uts', opts.uts)
  const pid = await joinNamespace(ctx, 'pid', pidMode)
  const ipc = await joinNamespace(ctx, 'ipc', ipcMode)
  if (pid.container && ipc.container && pid.container !== ipc.container) {
    throw new UsageError('--pid container:X and --ipc container:Y must name the same container (containers that share namespaces share a user namespace)')
  }
  if (shmSize !== undefined && ipcMode.kind === 'shareable') {
    throw new UsageError('--shm-size cannot be used with --ipc shareable: its /dev/shm is a directory the containers that join it bind')
  }
  if (shmSize !== undefined && ipc.ns.kind !== 'private') throw new UsageError(`--shm-size cannot be used with --ipc ${opts.ipc}: /dev/shm is not the container's own`)
  const sysctls: Record<string, string> = {}
  for (const s of opts.sysctls ?? []) {
    const [k, v] = parseSysctl(s, {ipcHost: ipcMode.kind === 'host', netHost: network === 'host', utsHost: utsMode.kind === 'host'})
    sysctls[k] = v
  }
  const devices = (opts.devices ?? []).map(resolveDevice)
  if (opts.privileged) {
    const given = new Set(devices.map((d) => d.container))
    for (const d of privilegedDevices()) if (!given.has(d.container)) devices.push(d)
  }
  const fileLabels: string[] = []
  for (const file of opts.labelFiles ?? []) {
    const text = await readFile(file, 'utf8').catch(() => {
      throw new UsageError(`cannot read label file ${file}`)
    })
    fileLabels.push(...parseLabelFile(text, file))
  }
  const stopSignal = opts.stopSignal !== undefined ? signalName(parseSignal(opts.stopSignal)) : undefined
  if (opts.stopTimeout !== undefined && (!Number.isInteger(opts.stopTimeout) || opts.stopTimeout < -1)) {
    throw new UsageError(`invalid --stop-timeout ${opts.stopTimeout}: seconds, or -1 to wait forever`)
  }
  if (opts.initPath !== undefined && !existsSync(opts.initPath)) throw new UsageError(`--init-path ${opts.initPath}: no such file`)
  if (opts.cidfile !== undefined && existsSync(opts.cidfile)) {
    throw new UsageError(`container ID file found, make sure the other container isn't running or delete ${opts.cidfile}`)
  }
  return {
    pull,
    extraHosts,
    dns,
    binds,
    tmpfs,
    fileLabels,
    ...(stopSignal ? {stopSignal} : {}),
    joinNamespaces: {...(pid.container ? {pid: pid.container} : {}), ...(ipc.container ? {ipc: ipc.container} : {})},
    spec: {
      ...(ulimits.length > 0 ? {ulimits} : {}),
      ...(shmSize !== undefined ? {shmSize} : {}),
      ...(devices.length > 0 ? {devices} : {}),
      pidNamespace: pid.ns,
      ipcNamespace: ipc.ns,
      utsNamespace: utsMode.kind === 'host' ? {kind: 'host'} : {kind: 'private'},
      ...(Object.keys(sysctls).length > 0 ? {sysctls} : {}),
      ...(opts.privileged ? {privileged: true} : {}),
      ...(ipc.shm ? {shmSource: ipc.shm} : {}),
    },
    hostConfig: {
      ExtraHosts: (opts.addHosts ?? []).map((h) => h.replace('=', ':')),
      Dns: dns.dns,
      DnsSearch: dns.search,
      DnsOptions: dns.options,
      Privileged: opts.privileged === true,
      PidMode: opts.pid === 'private' ? '' : (opts.pid ?? ''),
      IpcMode: modeText(opts.ipc),
      UTSMode: opts.uts ?? '',
      ShmSize: shmSize ?? 64 * 1024 * 1024,
      Sysctls: sysctls,
      Ulimits: ulimits.map((u) => ({Name: u.type.replace(/^RLIMIT_/, '').toLowerCase(), Soft: u.soft, Hard: u.hard})),
      Devices: devices.map((d) => ({PathOnHost: d.host, PathInContainer: d.container, CgroupPermissions: d.permissions})),
      Mounts: mountsShown,
    },
  }
}

/** --cidfile: the new container's id, in a file that must not exist yet. */
export async function writeCidFile(path: string, id: string): Promise<void> {
  await writeFile(path, id, {flag: 'wx', mode: 0o644}).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'EEXIST') throw new UsageError(`container ID file found, make sure the other container isn't running or delete ${path}`)
    throw new UsageError(`cannot write the container ID file ${path}: ${err.message}`)
  })
}
