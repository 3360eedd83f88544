import {existsSync, readFileSync} from 'node:fs'
import {isAbsolute} from 'node:path'
import {UsageError} from '../errors.js'
import type {ImageConfig} from '../oci/types.js'
import {type BindMount, type TmpfsMount, parseSignal, parseTmpfs, parseVolume, signalName} from './flags.js'
import type {OciSeccomp} from './seccomp.js'
import {MAX_GROUPS, type ResolvedUser} from './user.js'
import type {Ulimit} from './run-flags.js'

/**
 * The OCI runtime spec (bundle config.json) for a rootless container. The container shares the
 * user namespace ctr-ts's helper created (uid 0 → the user, 1..N → the subuid range), so the spec
 * has no `user` namespace and no id mappings; runc gives it new pid, mount, ipc, uts and cgroup
 * namespaces, and a network namespace unless --network host.
 */

export interface SpecMount {
  destination: string
  type: string
  source: string
  options?: string[]
}

export interface LinuxCapabilities {
  bounding: string[]
  effective: string[]
  permitted: string[]
  inheritable: string[]
  ambient: string[]
}

export interface RuntimeSpec {
  ociVersion: string
  process: {
    terminal: boolean
    user: {uid: number; gid: number; additionalGids?: number[]}
    args: string[]
    env: string[]
    cwd: string
    capabilities: LinuxCapabilities
    rlimits: Array<{type: string; hard: number; soft: number}>
    noNewPrivileges: boolean
  }
  root: {path: string; readonly: boolean}
  hostname: string
  mounts: SpecMount[]
  annotations?: Record<string, string>
  linux: {
    namespaces: Array<{type: 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'cgroup'; path?: string}>
    maskedPaths: string[]
    readonlyPaths: string[]
    resources?: {
      memory?: {limit: number}
      cpu?: {quota: number; period: number}
      pids?: {limit: number}
    }
    cgroupsPath?: string
    seccomp?: OciSeccomp
    sysctl?: Record<string, string>
  }
}

/** bridge and container: a network namespace joined by path (set in the bundle at each start). */
/** bridge and container: a network namespace joined by path (set in the bundle at each start). */
export type NetworkMode = 'none' | 'slirp4netns' | 'host' | 'bridge' | 'container' | 'bridge' | 'container'

export interface SpecInput {
  image: ImageConfig
  /** Absolute path of the mounted rootfs. */
  rootfsPath: string
  /** The command after the image name (replaces the image's Cmd). */
  args?: string[]
  /** --entrypoint: replaces the image's Entrypoint; '' clears it. */
  entrypoint?: string
  /** -e KEY=VALUE, or KEY alone (value from hostEnv, dropped when unset there). */
  env?: string[]
  /** Lines of the --env-file files, already parsed with parseEnvFile. */
  envFiles?: string[]
  hostEnv?: Record<string, string | undefined>
  /** -w */
  workdir?: string
  /** From resolveUser(); root when absent. */
  user?: ResolvedUser
  /** Default: the first 12 characters of the container id. */
  hostname?: string
  containerId: string
  tty: boolean
  stdin: boolean
  readOnly: boolean
  /** -v: parsed binds, or the raw flag values (then parsed here with parseVolume, which checks the host path exists). */
  mounts?: Array<BindMount | string>
  /** --tmpfs: parsed, or the raw flag values. */
  tmpfs?: Array<TmpfsMount | string>
  /** --init: hostPath is bind-mounted read-only at /dev/init and runs the command. */
  init?: {hostPath: string}
  network: NetworkMode
  /**
   * The container's shim holds its network namespace (restart policies): the spec asks for none,
   * so the process joins the shim's, which outlives it. (runc refuses net.* sysctls there.)
   */
  shimNetns?: boolean
  /** Host files bind-mounted at /etc/hosts, /etc/resolv.conf and /etc/hostname. */
  etcFiles?: {hosts?: string; resolvConf?: string; hostname?: string}
  /** Only when the caller checked cgroup delegation (checkResourceSupport). memory in bytes. */
  resources?: {memory?: number; cpus?: number; pidsLimit?: number}
  capAdd?: string[]
  capDrop?: string[]
  /** linux.seccomp (from seccompFor()); none: unconfined. */
  seccomp?: OciSeccomp
  /** process.noNewPrivileges; docker's default is false. */
  noNewPrivileges?: boolean
  /** RLIMIT_NOFILE for the container; from readNofileLimit() when absent. */
  nofile?: {soft: number; hard: number}

  // --- docker parity run/create flags (--ulimit, --shm-size, --device, --pid/--ipc/--uts, --sysctl, --group-add, --privileged) ---
  /** --ulimit: replace the default of the same type. */
  ulimits?: Ulimit[]
  /** --shm-size in bytes (docker's default 64 MiB). */
  shmSize?: number
  /** --device: host device nodes (or directories of them) bind-mounted into the container. */
  devices?: Array<{host: string; container: string; permissions: string; directory?: boolean}>
  pidNamespace?: NamespaceChoice
  ipcNamespace?: NamespaceChoice
  utsNamespace?: NamespaceChoice
  /** --sysctl, already checked against the namespaces (parseSysctl). */
  sysctls?: Record<string, string>
  /** --group-add gids, added to the user's supplementary groups. */
  groupAdd?: number[]
  /** --privileged: every capability, no masked or read-only paths (devices come through `devices`). */
  privileged?: boolean
  /** --security-opt systempaths=unconfined: no masked or read-only paths. */
  unmaskSystemPaths?: boolean
  /** --ipc container:X / shareable: /dev/shm of that container, bound instead of a new tmpfs. */
  shmSource?: string
}

/** A namespace of the container: its own, the host's (none in the spec), or one joined by path. */
export type NamespaceChoice = {kind: 'private'} | {kind: 'host'} | {kind: 'join'; path: string}

export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
export const STOP_SIGNAL_ANNOTATION = 'org.opencontainers.image.stopSignal'

/** docker's default capability set (moby oci/caps/defaults.go). */
export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_FSETID', 'CAP_FOWNER', 'CAP_MKNOD', 'CAP_NET_RAW', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETFCAP', 'CAP_SETPCAP', 'CAP_NET_BIND_SERVICE', 'CAP_SYS_CHROOT', 'CAP_KILL', 'CAP_AUDIT_WRITE',
]

/** Every Linux capability, in kernel order (capability.h, up to 5.9's CAP_CHECKPOINT_RESTORE). */
export const ALL_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID',
  'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN',
  'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
]

/** docker's default masked paths (moby oci/defaults.go). */
export const MASKED_PATHS: readonly string[] = [
  '/proc/asound', '/proc/acpi', '/proc/interrupts', '/proc/kcore', '/proc/keys', '/proc/latency_stats',
  '/proc/timer_list', '/proc/timer_stats', '/proc/sched_debug', '/proc/scsi', '/sys/firmware',
  '/sys/devices/virtual/powercap',
]

/** docker's default read-only paths. */
export const READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']

const WANTED_NOFILE = 1048576

/** The container command, by docker's rules for Entrypoint and Cmd. */
export function resolveArgs(image: ImageConfig, args: string[] | undefined, entrypoint: string | undefined): string[] {
  const cfg = image.config ?? {}
  const haveArgs = args !== undefined && args.length > 0
  let ep: string[]
  let cmd: string[]
  if (entrypoint === undefined) {
    ep = cfg.Entrypoint ?? []
    cmd = haveArgs ? args : (cfg.Cmd ?? [])
  } else if (entrypoint === '') {
    // docker: an explicitly empty entrypoint clears the image's, and keeps its Cmd.
    ep = []
    cmd = haveArgs ? args : (cfg.Cmd ?? [])
  } else {
    ep = [entrypoint]
    cmd = haveArgs ? args : []
  }
  const all = [...ep, ...cmd]
  if (all.length === 0) throw new UsageError('no command specified')
  return all
}

/**
 * The environment: the image's Env, PATH when missing, HOSTNAME, TERM=xterm with a tty, then the
 * env files, then -e (the later wins); HOME from the user's passwd entry when still unset.
 */
export function mergeEnv(opts: {
  imageEnv?: string[]
  hostname: string
  tty: boolean
  envFiles?: string[]
  env?: string[]
  hostEnv?: Record<string, string | undefined>
  home?: string
}): string[] {
  const vars = new Map<string, string>()
  const setEntry = (entry: string, fromUser: boolean) => {
    const eq = entry.indexOf('=')
    const key = eq < 0 ? entry : entry.slice(0, eq)
    if (key === '') {
      if (fromUser) throw new UsageError(`invalid environment variable "${entry}": no name`)
      return
    }
    if (eq >= 0) {
      vars.set(key, entry.slice(eq + 1))
    } else if (fromUser) {
      const value = opts.hostEnv?.[key]
      if (value !== undefined) vars.set(key, value)
    }
  }
  for (const e of opts.imageEnv ?? []) setEntry(e, false)
  if (!vars.has('PATH')) vars.set('PATH', DEFAULT_PATH)
  vars.set('HOSTNAME', opts.hostname)
  if (opts.tty) vars.set('TERM', 'xterm')
  for (const e of opts.envFiles ?? []) setEntry(e, true)
  for (const e of opts.env ?? []) setEntry(e, true)
  if (!vars.has('HOME')) vars.set('HOME', opts.home ?? '/')
  return [...vars].map(([k, v]) => `${k}=${v}`)
}

function normalizeCap(name: string): string {
  const up = name.trim().toUpperCase()
  if (up === 'ALL') return up
  const cap = up.startsWith('CAP_') ? up : `CAP_${up}`
  if (!ALL_CAPABILITIES.includes(cap)) throw new UsageError(`unknown capability "${name}"`)
  return cap
}

/** docker's TweakCapabilities: the default set, --cap-drop then --cap-add, with ALL on either side. */
export function resolveCapabilities(capAdd: string[] = [], capDrop: string[] = []): string[] {
  const add = capAdd.map(normalizeCap)
  const drop = capDrop.map(normalizeCap)
  let caps: string[]
  if (add.includes('ALL')) {
    caps = ALL_CAPABILITIES.filter((c) => !drop.includes(c))
  } else if (drop.includes('ALL')) {
    caps = add
  } else {
    caps = [...DEFAULT_CAPABILITIES.filter((c) => !drop.includes(c)), ...add]
  }
  return [...new Set(caps)]
}

/** RLIMIT_NOFILE for the container: 1048576 when the hard limit allows it, else the hard limit. */
export function nofileFor(current: {hard: number}): {soft: number; hard: number} {
  const n = Math.min(WANTED_NOFILE, current.hard)
  return {soft: n, hard: n}
}

/** Reads this process's RLIMIT_NOFILE from /proc/self/limits (impure; generateSpec takes the result). */
export function readNofileLimit(limitsText?: string): {soft: number; hard: number} {
  let text = limitsText
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/limits', 'utf8')
    } catch {
      return {soft: 1024, hard: 1024}
    }
  }
  const line = text.split('\n').find((l) => l.startsWith('Max open files'))
  const m = line && /^Max open files\s+(\S+)\s+(\S+)/.exec(line)
  if (!m) return {soft: 1024, hard: 1024}
  const num = (s: string) => (s === 'unlimited' ? WANTED_NOFILE : Number(s))
  return nofileFor({hard: num(m[2]!)})
}

function assertAbsolute(path: string, what: string): void {
  if (!isAbsolute(path)) throw new UsageError(`${what} "${path}" must be an absolute path`)
}

function systemMounts(network: NetworkMode, ns: Pick<SpecInput, 'pidNamespace' | 'ipcNamespace' | 'shmSize' | 'shmSource'> = {}): SpecMount[] {
  const ownNetns = network !== 'host'
  // proc, mqueue and a shm tmpfs can only be mounted by the owner of the pid/ipc namespace: with
  // the host's, bind the host's instead (as rootless podman does).
  const hostPid = ns.pidNamespace?.kind === 'host'
  const hostIpc = ns.ipcNamespace?.kind === 'host'
  const shmSource = hostIpc ? '/dev/shm' : ns.shmSource
  return [
    hostPid
      ? {destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev']}
      : {destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev']},
    {destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k']},
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      // gid 5 (tty) is mapped: the helper maps the whole subuid/subgid range.
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    shmSource
      ? {destination: '/dev/shm', type: 'bind', source: shmSource, options: ['rbind', 'nosuid', 'noexec', 'nodev']}
      : {destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', `size=${ns.shmSize ?? 65536 * 1024}`]},
    // the host's message queues, when the host has them mounted (a new mqueue mount needs an own IPC namespace)
    ...(hostIpc
      ? existsSync('/dev/mqueue')
        ? [{destination: '/dev/mqueue', type: 'bind', source: '/dev/mqueue', options: ['rbind', 'nosuid', 'noexec', 'nodev']}]
        : []
      : [{destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev']}]),
    // sysfs can only be mounted by the owner of the network namespace: with the host's network,
    // bind the host's /sys read-only instead (like `runc spec --rootless`).
    ownNetns
      ? {destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro']}
      : {destination: '/sys', type: 'bind', source: '/sys', options: ['rbind', 'nosuid', 'noexec', 'nodev', 'ro']},
    // Verified rootless with runc 1.1.5 on cgroup v1/hybrid (runc binds each hierarchy) and v2.
    {destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro']},
  ]
}

/**
 * The supplementary groups: the primary group first, then the user's /etc/group memberships and
 * --group-add, as docker and podman give them (`id` shows `groups=65534(nobody)`).
 */
export function processGroups(user: Pick<ResolvedUser, 'gid' | 'additionalGids'>, groupAdd: readonly number[] = []): number[] {
  const gids = [...new Set([user.gid, ...user.additionalGids, ...groupAdd])]
  if (gids.length > MAX_GROUPS) throw new UsageError(`the container process would have ${gids.length} groups: more than ${MAX_GROUPS} (the kernel's limit)`)
  return gids
}

/** The process's rlimits: RLIMIT_NOFILE by default, then each --ulimit replaces its type. */
function rlimits(input: SpecInput): RuntimeSpec['process']['rlimits'] {
  const out = new Map<string, {type: string; soft: number; hard: number}>()
  out.set('RLIMIT_NOFILE', {type: 'RLIMIT_NOFILE', ...(input.nofile ?? readNofileLimit())})
  for (const u of input.ulimits ?? []) out.set(u.type, {type: u.type, soft: u.soft, hard: u.hard})
  return [...out.values()]
}

/** --privileged: every capability this kernel knows (/proc/sys/kernel/cap_last_cap). */
export function privilegedCapabilities(lastCap: number = readLastCap()): string[] {
  return ALL_CAPABILITIES.slice(0, lastCap + 1)
}

function readLastCap(): number {
  try {
    const n = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8').trim())
    return Number.isInteger(n) && n >= 0 ? n : ALL_CAPABILITIES.length - 1
  } catch {
    return ALL_CAPABILITIES.length - 1
  }
}

function bindMount(b: BindMount): SpecMount {
  // nosuid,nodev like podman: a rootless user cannot have them anyway, and keeping them makes
  // the read-only remount legal when the host mount has them locked.
  const options = ['rbind', 'nosuid', 'nodev', b.readOnly ? 'ro' : 'rw', b.propagation ?? 'rprivate']
  return {destination: b.destination, type: 'bind', source: b.source, options}
}

function checkDuplicateDestinations(mounts: SpecMount[]): void {
  const seen = new Set<string>()
  for (const m of mounts) {
    if (seen.has(m.destination)) throw new UsageError(`duplicate mount point: ${m.destination}`)
    seen.add(m.destination)
  }
}

/** The OCI runtime spec for a container; pure apart from parsing raw -v/--tmpfs strings and reading limits when not given. */
export function generateSpec(input: SpecInput): RuntimeSpec {
  assertAbsolute(input.rootfsPath, 'rootfs path')
  const cfg = input.image.config ?? {}
  const hostname = input.hostname ?? input.containerId.slice(0, 12)
  const user: ResolvedUser = input.user ?? {uid: 0, gid: 0, additionalGids: [], home: '/root'}

  let args = resolveArgs(input.image, input.args, input.entrypoint)
  if (input.init) args = ['/dev/init', '--', ...args]

  const cwd = input.workdir !== undefined && input.workdir !== '' ? input.workdir : cfg.WorkingDir || '/'
  if (!isAbsolute(cwd)) throw new UsageError(`the working directory "${cwd}" is invalid, it needs to be an absolute path`)

  const env = mergeEnv({
    imageEnv: cfg.Env,
    hostname,
    tty: input.tty,
    envFiles: input.envFiles,
    env: input.env,
    hostEnv: input.hostEnv,
    home: user.home,
  })

  const caps = input.privileged ? privilegedCapabilities() : resolveCapabilities(input.capAdd, input.capDrop)
  const gids = processGroups(user, input.groupAdd)

  const userMounts: SpecMount[] = []
  for (const v of input.mounts ?? []) userMounts.push(bindMount(typeof v === 'string' ? parseVolume(v) : v))
  for (const t of input.tmpfs ?? []) {
    const p = typeof t === 'string' ? parseTmpfs(t) : t
    userMounts.push({destination: p.destination, type: 'tmpfs', source: 'tmpfs', options: p.options})
  }
  checkDuplicateDestinations(userMounts)
  // parents before children, whatever their kind (docker sorts by path depth, stably)
  userMounts.sort((a, b) => a.destination.split('/').length - b.destination.split('/').length)
  const userDests = new Set(userMounts.map((m) => m.destination))

  const extra: SpecMount[] = []
  if (input.init) {
    assertAbsolute(input.init.hostPath, 'init binary')
    extra.push({destination: '/dev/init', type: 'bind', source: input.init.hostPath, options: ['bind', 'ro', 'nosuid', 'nodev', 'rprivate']})
  }
  const etcOpts = ['rbind', 'nosuid', 'nodev', 'noexec', input.readOnly ? 'ro' : 'rw', 'rprivate']
  const etc = input.etcFiles ?? {}
  for (const [dest, src] of [['/etc/hosts', etc.hosts], ['/etc/resolv.conf', etc.resolvConf], ['/etc/hostname', etc.hostname]] as const) {
    // A user's -v over one of these files wins, like docker.
    if (src === undefined || userDests.has(dest)) continue
    assertAbsolute(src, dest)
    extra.push({destination: dest, type: 'bind', source: src, options: etcOpts})
  }

  const namespaces: RuntimeSpec['linux']['namespaces'] = []
  for (const [type, choice] of [['pid', input.pidNamespace], ['ipc', input.ipcNamespace], ['uts', input.utsNamespace]] as const) {
    if (choice?.kind === 'host') continue
    namespaces.push(choice?.kind === 'join' ? {type, path: choice.path} : {type})
  }
  namespaces.push({type: 'mount'}, {type: 'cgroup'})
  if (input.network !== 'host' && !input.shimNetns) namespaces.push({type: 'network'})
  for (const d of input.devices ?? []) {
    const options = [d.directory ? 'rbind' : 'bind', 'nosuid', d.permissions.includes('w') ? 'rw' : 'ro', 'rprivate']
    extra.push({destination: d.container, type: 'bind', source: d.host, options})
  }
  checkDuplicateDestinations([...userMounts, ...extra])

  const spec: RuntimeSpec = {
    ociVersion: '1.0.2',
    process: {
      terminal: input.tty,
      user: {uid: user.uid, gid: user.gid, ...(gids.length > 0 ? {additionalGids: gids} : {})},
      args,
      env,
      cwd,
      capabilities: {bounding: caps, effective: caps, permitted: caps, inheritable: [], ambient: []},
      rlimits: rlimits(input),
      noNewPrivileges: input.noNewPrivileges ?? false,
    },
    root: {path: input.rootfsPath, readonly: input.readOnly},
    hostname,
    mounts: [...systemMounts(input.network, input), ...userMounts, ...extra],
    linux: {
      namespaces,
      maskedPaths: input.privileged || input.unmaskSystemPaths ? [] : [...MASKED_PATHS],
      readonlyPaths: input.privileged || input.unmaskSystemPaths ? [] : [...READONLY_PATHS],
      ...(input.seccomp ? {seccomp: input.seccomp} : {}),
    },
  }

  // Without its own UTS namespace a container cannot have a hostname of its own (runc refuses it).
  if (input.utsNamespace?.kind === 'host') delete (spec as Partial<RuntimeSpec>).hostname
  if (input.sysctls && Object.keys(input.sysctls).length > 0) spec.linux.sysctl = {...input.sysctls}

  // The image's StopSignal, recorded as an annotation (checked here: a bad one fails at create).
  const stop = cfg.StopSignal
  if (stop) spec.annotations = {[STOP_SIGNAL_ANNOTATION]: signalName(parseSignal(stop))}

  const r = input.resources
  if (r && (r.memory !== undefined || r.cpus !== undefined || r.pidsLimit !== undefined)) {
    const resources: NonNullable<RuntimeSpec['linux']['resources']> = {}
    if (r.memory !== undefined) resources.memory = {limit: r.memory}
    if (r.cpus !== undefined) resources.cpu = {period: 100000, quota: Math.round(r.cpus * 100000)}
    if (r.pidsLimit !== undefined) {
      if (!Number.isInteger(r.pidsLimit) || r.pidsLimit === 0 || r.pidsLimit < -1) {
        throw new UsageError(`invalid --pids-limit ${r.pidsLimit}: a positive number, or -1 for unlimited`)
      }
      resources.pids = {limit: r.pidsLimit}
    }
    spec.linux.resources = resources
  }
  return spec
}
