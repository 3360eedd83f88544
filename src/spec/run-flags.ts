import {isAbsolute, normalize} from 'node:path'
import {UsageError} from '../errors.js'
import {type BindMount, type Propagation, type TmpfsMount, parseMemory} from './flags.js'

/**
 * Pure parsing behind docker's run/create flags --add-host, --dns*, --ulimit, --shm-size,
 * --mount, --device, --pid/--ipc/--uts, --sysctl, --label-file, --pull and -a. Every function
 * throws a UsageError naming the bad value.
 */

/** `--add-host NAME:IP` (or `NAME=IP`); `host-gateway` becomes `gateway`. */
export function parseAddHost(spec: string, gateway: string): {name: string; ip: string} {
  // docker accepts NAME:IP and NAME=IP; IPv6 addresses contain colons, so split at the first one.
  const sep = spec.includes('=') ? spec.indexOf('=') : spec.indexOf(':')
  if (sep <= 0) throw new UsageError(`invalid --add-host "${spec}": use NAME:IP (or NAME:host-gateway)`)
  const name = spec.slice(0, sep)
  let ip = spec.slice(sep + 1).replace(/^\[(.*)\]$/, '$1')
  if (ip === 'host-gateway') ip = gateway
  if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new UsageError(`invalid --add-host "${spec}": bad host name "${name}"`)
  if (!isIp(ip)) throw new UsageError(`invalid --add-host "${spec}": "${ip}" is not an IP address`)
  return {name, ip}
}

function isIp(s: string): boolean {
  const v4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (v4) return v4.slice(1).every((o) => Number(o) <= 255)
  return /^[0-9a-fA-F:]+(%\w+)?$/.test(s) && s.includes(':') && (s.match(/::/g) ?? []).length <= 1
}

/** `--dns IP`. */
export function parseDns(spec: string): string {
  if (!isIp(spec)) throw new UsageError(`invalid --dns "${spec}": not an IP address`)
  return spec
}

/** `--dns-search DOMAIN` (`.` means none, as docker). */
export function parseDnsSearch(spec: string): string {
  if (spec !== '.' && !/^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*\.?$/.test(spec)) throw new UsageError(`invalid --dns-search "${spec}": not a domain name`)
  return spec
}

const RLIMITS: Record<string, string> = {
  as: 'RLIMIT_AS', core: 'RLIMIT_CORE', cpu: 'RLIMIT_CPU', data: 'RLIMIT_DATA', fsize: 'RLIMIT_FSIZE',
  locks: 'RLIMIT_LOCKS', memlock: 'RLIMIT_MEMLOCK', msgqueue: 'RLIMIT_MSGQUEUE', nice: 'RLIMIT_NICE',
  nofile: 'RLIMIT_NOFILE', nproc: 'RLIMIT_NPROC', rss: 'RLIMIT_RSS', rtprio: 'RLIMIT_RTPRIO',
  rttime: 'RLIMIT_RTTIME', sigpending: 'RLIMIT_SIGPENDING', stack: 'RLIMIT_STACK',
}
/** RLIM_INFINITY as the OCI spec's uint64 (JSON numbers are doubles: 2^64-1 is written as this). */
export const RLIM_INFINITY = 18446744073709551615

export interface Ulimit {
  type: string
  soft: number
  hard: number
}

/** `--ulimit nofile=1024[:2048]` (-1 is unlimited), like docker's units.ParseUlimit. */
export function parseUlimit(spec: string): Ulimit {
  const m = /^([a-z]+)=(-?\d+)(?::(-?\d+))?$/.exec(spec.trim())
  if (!m) throw new UsageError(`invalid --ulimit "${spec}": use NAME=SOFT[:HARD], e.g. nofile=1024:2048`)
  const type = RLIMITS[m[1]!]
  if (!type) throw new UsageError(`invalid --ulimit "${spec}": unknown limit "${m[1]}" (${Object.keys(RLIMITS).join(', ')})`)
  const num = (s: string) => (s === '-1' ? RLIM_INFINITY : Number(s))
  if ((m[2]!.startsWith('-') && m[2] !== '-1') || (m[3]?.startsWith('-') && m[3] !== '-1')) throw new UsageError(`invalid --ulimit "${spec}": negative limit`)
  const soft = num(m[2]!)
  const hard = m[3] === undefined ? soft : num(m[3])
  if (soft > hard) throw new UsageError(`invalid --ulimit "${spec}": soft limit ${m[2]} is greater than hard limit ${m[3]}`)
  return {type, soft, hard}
}

/** `--shm-size 128m` → the /dev/shm tmpfs size in bytes. */
export function parseShmSize(spec: string): number {
  try {
    return parseMemory(spec)
  } catch {
    throw new UsageError(`invalid --shm-size "${spec}": use a size such as 64m or 1g`)
  }
}

/** --mount type=volume as parsed; the volume stage turns it into a bind of the volume's directory. */
export interface VolumeMountRequest {
  /** The volume's name; absent for an anonymous volume. */
  name?: string
  destination: string
  readOnly: boolean
  /** volume-nocopy: do not copy the image's content into a new volume. */
  noCopy: boolean
  /** volume-label=K=V and volume-driver / volume-opt, kept as given. */
  labels: Record<string, string>
  driver?: string
  driverOptions: Record<string, string>
}

export type MountRequest = {type: 'bind'; bind: BindMount} | {type: 'tmpfs'; tmpfs: TmpfsMount} | {type: 'volume'; volume: VolumeMountRequest}

/** Splits docker's CSV field list; a field may be quoted ("a,b"). */
export function csvFields(spec: string): string[] {
  const out: string[] = []
  let cur = ''
  let quoted = false
  for (const ch of spec) {
    if (ch === '"') quoted = !quoted
    else if (ch === ',' && !quoted) {
      out.push(cur)
      cur = ''
    } else cur += ch
  }
  if (quoted) throw new UsageError(`invalid --mount "${spec}": unterminated quote`)
  out.push(cur)
  return out
}

function boolValue(spec: string, key: string, value: string | undefined): boolean {
  if (value === undefined || value === 'true' || value === '1') return true
  if (value === 'false' || value === '0') return false
  throw new UsageError(`invalid --mount "${spec}": ${key} takes true or false`)
}

const PROPAGATIONS: readonly string[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']

/**
 * Parses docker's long `--mount` syntax: type=bind|tmpfs|volume, source|src, destination|dst|
 * target, readonly|ro, bind-propagation, tmpfs-size, tmpfs-mode, volume-nocopy, volume-label,
 * volume-driver, volume-opt. `exists` checks a bind's host path (docker refuses a missing one).
 */
export function parseMount(spec: string, exists: (path: string) => boolean): MountRequest {
  let type = 'volume'
  let source: string | undefined
  let destination: string | undefined
  let readOnly = false
  let propagation: Propagation | undefined
  let tmpfsSize: number | undefined
  let tmpfsMode: string | undefined
  let noCopy = false
  let driver: string | undefined
  const labels: Record<string, string> = {}
  const driverOptions: Record<string, string> = {}
  const seen = new Set<string>()
  for (const field of csvFields(spec)) {
    if (field === '') continue
    const eq = field.indexOf('=')
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase()
    const value = eq < 0 ? undefined : field.slice(eq + 1)
    const need = (): string => {
      if (value === undefined || value === '') throw new UsageError(`invalid --mount "${spec}": ${key} needs a value`)
      return value
    }
    seen.add(key)
    switch (key) {
      case 'type':
        type = need()
        break
      case 'source':
      case 'src':
        source = need()
        break
      case 'destination':
      case 'dst':
      case 'target':
        destination = need()
        break
      case 'readonly':
      case 'ro':
        readOnly = boolValue(spec, key, value)
        break
      case 'bind-propagation':
        if (!PROPAGATIONS.includes(need())) throw new UsageError(`invalid --mount "${spec}": bind-propagation is one of ${PROPAGATIONS.join(', ')}`)
        propagation = value as Propagation
        break
      case 'bind-nonrecursive':
      case 'consistency':
        break
      case 'tmpfs-size':
        tmpfsSize = parseMemory(need())
        break
      case 'tmpfs-mode':
        if (!/^[0-7]{1,4}$/.test(need())) throw new UsageError(`invalid --mount "${spec}": tmpfs-mode is octal`)
        tmpfsMode = value
        break
      case 'volume-nocopy':
        noCopy = boolValue(spec, key, value)
        break
      case 'volume-driver':
        driver = need()
        break
      case 'volume-label':
      case 'volume-opt': {
        const kv = need()
        const i = kv.indexOf('=')
        const target = key === 'volume-label' ? labels : driverOptions
        target[i < 0 ? kv : kv.slice(0, i)] = i < 0 ? '' : kv.slice(i + 1)
        break
      }
      default:
        throw new UsageError(`invalid --mount "${spec}": unknown field "${key}"`)
    }
  }
  if (!destination) throw new UsageError(`invalid --mount "${spec}": target is required`)
  if (!isAbsolute(destination)) throw new UsageError(`invalid --mount "${spec}": target "${destination}" must be absolute`)
  destination = normalize(destination).replace(/(.)\/+$/, '$1')
  if (destination === '/') throw new UsageError(`invalid --mount "${spec}": the target cannot be "/"`)
  const only = (keys: string[], forType: string) => {
    for (const k of keys) if (seen.has(k)) throw new UsageError(`invalid --mount "${spec}": ${k} is not valid with type=${forType}`)
  }
  const volumeKeys = ['volume-nocopy', 'volume-driver', 'volume-label', 'volume-opt']
  const tmpfsKeys = ['tmpfs-size', 'tmpfs-mode']
  const bindKeys = ['bind-propagation', 'bind-nonrecursive']
  if (type === 'bind') {
    only([...volumeKeys, ...tmpfsKeys], 'bind')
    if (!source) throw new UsageError(`invalid --mount "${spec}": source is required for type=bind`)
    if (!isAbsolute(source)) throw new UsageError(`invalid --mount "${spec}": source "${source}" must be an absolute host path`)
    const src = normalize(source).replace(/(.)\/+$/, '$1')
    if (!exists(src)) throw new UsageError(`invalid --mount "${spec}": bind source path does not exist: ${src}`)
    return {type: 'bind', bind: {source: src, destination, readOnly, ...(propagation ? {propagation} : {})}}
  }
  if (type === 'tmpfs') {
    only([...volumeKeys, ...bindKeys], 'tmpfs')
    if (source) throw new UsageError(`invalid --mount "${spec}": type=tmpfs takes no source`)
    const options = ['nosuid', 'nodev', 'noexec', readOnly ? 'ro' : 'rw']
    if (tmpfsSize !== undefined) options.push(`size=${tmpfsSize}`)
    options.push(`mode=${tmpfsMode ?? '1777'}`)
    return {type: 'tmpfs', tmpfs: {destination, options}}
  }
  if (type === 'volume') {
    only([...tmpfsKeys, ...bindKeys], 'volume')
    if (source && !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(source)) {
      throw new UsageError(`invalid --mount "${spec}": "${source}" is not a volume name (use type=bind for a host path)`)
    }
    return {
      type: 'volume',
      volume: {...(source ? {name: source} : {}), destination, readOnly, noCopy, labels, ...(driver ? {driver} : {}), driverOptions},
    }
  }
  if (type === 'npipe' || type === 'cluster' || type === 'image') {
    throw new UsageError(`invalid --mount "${spec}": type=${type} is not supported (bind, tmpfs and volume are)`)
  }
  throw new UsageError(`invalid --mount "${spec}": unknown type "${type}" (bind, tmpfs or volume)`)
}

export interface DeviceRequest {
  /** The host device node (or directory of them). */
  host: string
  /** Where it appears in the container. */
  container: string
  permissions: string
}

/** `--device /dev/HOST[:/dev/CTR][:rwm]`. */
export function parseDevice(spec: string): DeviceRequest {
  const parts = spec.split(':')
  if (parts.length > 3 || parts.some((p) => p === '')) throw new UsageError(`invalid --device "${spec}": use /dev/HOST[:/dev/CONTAINER][:rwm]`)
  const host = parts[0]!
  let container = host
  let permissions = 'rwm'
  if (parts.length === 2) {
    if (/^[rwm]+$/.test(parts[1]!)) permissions = parts[1]!
    else container = parts[1]!
  } else if (parts.length === 3) {
    container = parts[1]!
    permissions = parts[2]!
  }
  if (!/^[rwm]{1,3}$/.test(permissions)) throw new UsageError(`invalid --device "${spec}": permissions are a combination of r, w and m`)
  if (!isAbsolute(host)) throw new UsageError(`invalid --device "${spec}": "${host}" must be an absolute path`)
  if (!isAbsolute(container)) throw new UsageError(`invalid --device "${spec}": "${container}" must be an absolute path`)
  return {host: normalize(host), container: normalize(container), permissions}
}

/** A --pid, --ipc or --uts mode. */
export type NamespaceMode = {kind: 'private'} | {kind: 'host'} | {kind: 'container'; container: string} | {kind: 'shareable'}

/** `--pid host|container:X`, `--ipc host|private|shareable|container:X|none`, `--uts host`. */
export function parseNamespaceMode(flag: 'pid' | 'ipc' | 'uts', spec: string | undefined): NamespaceMode {
  if (spec === undefined || spec === '' || spec === 'private') return {kind: 'private'}
  if (spec === 'host') return {kind: 'host'}
  if (flag === 'ipc' && spec === 'shareable') return {kind: 'shareable'}
  if (flag !== 'uts' && spec.startsWith('container:') && spec.length > 'container:'.length) {
    return {kind: 'container', container: spec.slice('container:'.length)}
  }
  const allowed = {pid: 'host or container:NAME', ipc: 'host, private, shareable or container:NAME', uts: 'host'}[flag]
  throw new UsageError(`invalid --${flag} "${spec}": use ${allowed}`)
}

/** The IPC sysctls a container's own IPC namespace has (docker's validation list). */
const IPC_SYSCTLS = new Set(['kernel.msgmax', 'kernel.msgmnb', 'kernel.msgmni', 'kernel.sem', 'kernel.shmall', 'kernel.shmmax', 'kernel.shmmni', 'kernel.shm_rmid_forced'])

/**
 * `--sysctl KEY=VALUE`, namespaced ones only (docker's list): IPC ones (kernel.msg*, kernel.sem,
 * kernel.shm*, fs.mqueue.*) need the container's own IPC namespace, net.* its own network
 * namespace (runc refuses them in the host's), kernel.domainname/hostname its own UTS namespace.
 */
export function parseSysctl(spec: string, ns: {ipcHost: boolean; netHost: boolean; utsHost: boolean}): [string, string] {
  const eq = spec.indexOf('=')
  if (eq <= 0) throw new UsageError(`invalid --sysctl "${spec}": use KEY=VALUE`)
  const key = spec.slice(0, eq).trim().replace(/\//g, '.')
  const value = spec.slice(eq + 1)
  const refuse = (why: string) => {
    throw new UsageError(`sysctl "${key}" is not allowed: ${why}`)
  }
  if (IPC_SYSCTLS.has(key) || key.startsWith('fs.mqueue.')) {
    if (ns.ipcHost) refuse('it is not namespaced when the container shares the host IPC namespace (--ipc host)')
  } else if (key.startsWith('net.')) {
    if (ns.netHost) refuse('it is not namespaced when the container uses the host network (--network host)')
  } else if (key === 'kernel.domainname' || key === 'kernel.hostname') {
    if (ns.utsHost) refuse('it is not namespaced when the container shares the host UTS namespace (--uts host)')
  } else {
    refuse('only namespaced sysctls can be set in a container (kernel.msg*, kernel.sem, kernel.shm*, fs.mqueue.*, net.*, kernel.domainname)')
  }
  return [key, value]
}

/** A --label-file's text: one KEY=VALUE per line, `#` comments and blank lines skipped (docker's ReadKVStrings). */
export function parseLabelFile(text: string, file: string): string[] {
  const out: string[] = []
  text.replace(/^\uFEFF/, '').split(/\r?\n/).forEach((raw, i) => {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) return
    if (line.startsWith('=')) throw new UsageError(`invalid label file ${file} line ${i + 1}: no label name`)
    out.push(line)
  })
  return out
}

export type PullPolicy = 'always' | 'missing' | 'never'

/** `--pull always|missing|never`. */
export function parsePullPolicy(spec: string | undefined): PullPolicy {
  if (spec === undefined || spec === 'missing') return 'missing'
  if (spec === 'always' || spec === 'never') return spec
  throw new UsageError(`invalid --pull "${spec}": use always, missing or never`)
}

export type AttachStream = 'stdin' | 'stdout' | 'stderr'

/** `-a stdin|stdout|stderr` (repeatable); none given: all. */
export function parseAttach(specs: readonly string[]): Set<AttachStream> {
  if (specs.length === 0) return new Set(['stdin', 'stdout', 'stderr'])
  const out = new Set<AttachStream>()
  for (const s of specs) {
    const v = s.toLowerCase()
    if (v !== 'stdin' && v !== 'stdout' && v !== 'stderr') throw new UsageError(`invalid --attach "${s}": use stdin, stdout or stderr`)
    out.add(v)
  }
  return out
}

/**
 * `--group-add GROUP`: a gid, or a group name of the image's /etc/group (`groups` is its parsed
 * content).
 */
export function resolveGroupAdd(specs: readonly string[], groups: Array<{name: string; gid: number}>): number[] {
  return specs.map((g) => {
    if (/^\d+$/.test(g)) return Number(g)
    const found = groups.find((x) => x.name === g)
    if (!found) throw new UsageError(`unable to find group ${g}: no matching entries in the image's group file`)
    return found.gid
  })
}

/** docker run flags that cannot work for a rootless container, and why. */
export const ROOTLESS_REFUSED: Readonly<Record<string, string>> = {
  'cgroup-parent': 'rootless containers are not placed in a cgroup hierarchy ctr-ts could choose',
  'cpu-rt-runtime': 'real-time scheduling budgets need root',
  'cpu-rt-period': 'real-time scheduling budgets need root',
  'kernel-memory': 'kernel memory limits were removed from the kernel (cgroup v1 only, deprecated by docker)',
  'oom-kill-disable': 'disabling the OOM killer needs root',
  'blkio-weight': 'block I/O weights need root or a delegated cgroup v2 io controller',
  'device-read-bps': 'block I/O throttling needs root or a delegated cgroup v2 io controller',
  'device-write-bps': 'block I/O throttling needs root or a delegated cgroup v2 io controller',
  'device-read-iops': 'block I/O throttling needs root or a delegated cgroup v2 io controller',
  'device-write-iops': 'block I/O throttling needs root or a delegated cgroup v2 io controller',
  userns: 'every ctr-ts container already runs in the unprivileged user namespace of its user; there is no host one to share',
  isolation: 'isolation technologies are a Windows feature',
  'cgroupns': 'ctr-ts always gives a container its own cgroup namespace',
}
