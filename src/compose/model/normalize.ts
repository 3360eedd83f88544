/**
 * The merged canonical document → the typed model (types.ts): every attribute in one shape with
 * its empty value when absent, strings that stand for numbers, booleans, durations and sizes
 * converted (interpolated values arrive as strings), short forms expanded (command strings split
 * as a shell would, healthcheck test strings as CMD-SHELL), restart merged from restart and
 * deploy.restart_policy, scale from scale and deploy.replicas.
 */
import {Duration} from '@icholy/duration'
import {split as shellSplit} from 'shellwords'
import {ComposeFileError} from '../../errors.js'
import {scalarString, type Raw} from './canonical.js'
import type {
  BuildConfig,
  DependsOn,
  DependsOnCondition,
  DeployConfig,
  EnvFile,
  FileObjectConfig,
  Healthcheck,
  NetworkConfig,
  ServiceConfig,
  ServiceFileObject,
  ServiceNetwork,
  ServicePort,
  ServiceVolume,
  VolumeConfig,
  VolumeType,
} from './types.js'

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v)

/** Converts values and reports a bad one as `FILE: PATH: PROBLEM`. */
export class Converter {
  constructor(private readonly file: string) {}

  fail(path: readonly string[], problem: string): never {
    throw new ComposeFileError(this.file, path, problem)
  }

  str(v: unknown): string | undefined {
    return v === undefined || v === null ? undefined : scalarString(v)
  }

  bool(v: unknown, path: readonly string[]): boolean | undefined {
    if (v === undefined || v === null) return undefined
    if (typeof v === 'boolean') return v
    const s = scalarString(v).toLowerCase()
    if (['y', 'yes', 'true', 'on', '1'].includes(s)) return true
    if (['n', 'no', 'false', 'off', '0'].includes(s)) return false
    return this.fail(path, `"${scalarString(v)}" is not a boolean`)
  }

  int(v: unknown, path: readonly string[]): number | undefined {
    if (v === undefined || v === null) return undefined
    const s = scalarString(v).trim()
    if (!/^-?\d+$/.test(s)) return this.fail(path, `"${scalarString(v)}" is not an integer`)
    return Number(s)
  }

  float(v: unknown, path: readonly string[]): number | undefined {
    if (v === undefined || v === null) return undefined
    const n = Number(scalarString(v).trim())
    if (scalarString(v).trim() === '' || !Number.isFinite(n)) return this.fail(path, `"${scalarString(v)}" is not a number`)
    return n
  }

  /** A Go duration ("1m30s", "500ms", "0") → ms. */
  duration(v: unknown, path: readonly string[]): number | undefined {
    if (v === undefined || v === null) return undefined
    const s = scalarString(v).trim()
    if (s === '0') return 0
    if (!/^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/.test(s)) return this.fail(path, `"${s}" is not a duration (e.g. 10s, 1m30s, 500ms)`)
    return new Duration(s).milliseconds()
  }

  /** docker's RAMInBytes: 512m, 1g, 1.5GiB, 1048576 → bytes. */
  bytes(v: unknown, path: readonly string[]): number | undefined {
    if (v === undefined || v === null) return undefined
    if (typeof v === 'number') return v
    const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(scalarString(v).trim())
    if (!m) return this.fail(path, `"${scalarString(v)}" is not a size (e.g. 64m, 1g)`)
    const units: Record<string, number> = {'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5}
    return Math.floor(Number(m[1]) * units[m[2]!.toLowerCase()]!)
  }

  strings(v: unknown): string[] {
    if (v === undefined || v === null) return []
    return (Array.isArray(v) ? v : [v]).map(scalarString)
  }

  dict(v: unknown): Record<string, string> {
    if (!isMap(v)) return {}
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scalarString(x)]))
  }

  /** command/entrypoint: a string split as a shell would (no variables, no globbing), or a list. */
  argv(v: unknown, path: readonly string[]): string[] | null {
    if (v === undefined || v === null) return null
    if (Array.isArray(v)) return v.map(scalarString)
    try {
      return shellSplit(scalarString(v))
    } catch (err) {
      return this.fail(path, `cannot split "${scalarString(v)}": ${(err as Error).message}`)
    }
  }
}

const CONDITIONS = new Set<DependsOnCondition>(['service_started', 'service_healthy', 'service_completed_successfully'])

function healthcheck(v: unknown, c: Converter, path: string[]): Healthcheck | undefined {
  if (!isMap(v)) return undefined
  const hc: Healthcheck = {disable: c.bool(v.disable, [...path, 'disable']) ?? false}
  if (v.test !== undefined && v.test !== null) {
    const test = Array.isArray(v.test) ? v.test.map(scalarString) : ['CMD-SHELL', scalarString(v.test)]
    if (test[0] === 'NONE') hc.disable = true
    else if (test.length === 0) c.fail([...path, 'test'], 'must not be empty')
    else if (test[0] !== 'CMD' && test[0] !== 'CMD-SHELL') c.fail([...path, 'test'], `must start with "CMD", "CMD-SHELL" or "NONE", not "${test[0]}"`)
    hc.test = test
  }
  const d = (k: 'interval' | 'timeout' | 'start_period' | 'start_interval') => {
    const ms = c.duration(v[k], [...path, k])
    if (ms !== undefined) hc[k] = ms
  }
  d('interval')
  d('timeout')
  d('start_period')
  d('start_interval')
  const retries = c.int(v.retries, [...path, 'retries'])
  if (retries !== undefined) hc.retries = retries
  if (hc.disable) delete hc.test
  return hc
}

/** docker's --restart value from `restart:` or deploy.restart_policy (any → always, none → no). */
function restartPolicy(svc: Raw, c: Converter, path: string[]): string | undefined {
  if (svc.restart !== undefined && svc.restart !== null) {
    const r = scalarString(svc.restart)
    if (!/^(no|always|unless-stopped|on-failure(:\d+)?)$/.test(r)) c.fail([...path, 'restart'], `invalid restart policy "${r}": use no, always, on-failure[:max-retries] or unless-stopped`)
    return r
  }
  const deploy = isMap(svc.deploy) ? svc.deploy : undefined
  const rp = deploy && isMap(deploy.restart_policy) ? deploy.restart_policy : undefined
  if (!rp) return undefined
  const condition = c.str(rp.condition) ?? 'any'
  const max = c.int(rp.max_attempts, [...path, 'deploy', 'restart_policy', 'max_attempts'])
  if (condition === 'none') return 'no'
  if (condition === 'on-failure') return max ? `on-failure:${max}` : 'on-failure'
  return 'always'
}

function ports(v: unknown, c: Converter, path: string[]): ServicePort[] {
  if (!Array.isArray(v)) return []
  return v.map((p: Raw, i) => {
    const at = [...path, `[${i}]`]
    const target = c.int(p.target, [...at, 'target'])
    if (target === undefined) return c.fail(at, 'missing required property "target"')
    const protocol = (c.str(p.protocol) ?? 'tcp').toLowerCase()
    if (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp') return c.fail([...at, 'protocol'], `unknown protocol "${protocol}"`)
    const out: ServicePort = {target, protocol, mode: c.str(p.mode) ?? 'ingress'}
    const published = c.str(p.published)
    if (published !== undefined && published !== '') {
      if (!/^\d+(-\d+)?$/.test(published)) c.fail([...at, 'published'], `invalid host port "${published}"`)
      out.published = published
    }
    const hostIp = c.str(p.host_ip)
    if (hostIp) out.host_ip = hostIp
    const name = c.str(p.name)
    if (name) out.name = name
    const app = c.str(p.app_protocol)
    if (app) out.app_protocol = app
    return out
  })
}

const VOLUME_TYPES = new Set<VolumeType>(['volume', 'bind', 'tmpfs', 'npipe', 'cluster', 'image'])

function volumes(v: unknown, c: Converter, path: string[]): ServiceVolume[] {
  if (!Array.isArray(v)) return []
  return v.map((m: Raw, i) => {
    const at = [...path, `[${i}]`]
    const type = (c.str(m.type) ?? 'volume') as VolumeType
    if (!VOLUME_TYPES.has(type)) c.fail([...at, 'type'], `unknown volume type "${type}"`)
    const target = c.str(m.target)
    if (!target) return c.fail(at, 'missing required property "target"')
    const out: ServiceVolume = {type, target, read_only: c.bool(m.read_only, [...at, 'read_only']) ?? false}
    const source = c.str(m.source)
    if (source) out.source = source
    else if (type === 'bind') c.fail(at, 'a bind mount needs a "source"')
    const consistency = c.str(m.consistency)
    if (consistency) out.consistency = consistency
    if (type === 'bind') {
      const b = isMap(m.bind) ? m.bind : {}
      out.bind = {create_host_path: c.bool(b.create_host_path, [...at, 'bind', 'create_host_path']) ?? false}
      const prop = c.str(b.propagation)
      if (prop) out.bind.propagation = prop
      const selinux = c.str(b.selinux)
      if (selinux === 'z' || selinux === 'Z') out.bind.selinux = selinux
    }
    if (type === 'volume' && isMap(m.volume)) {
      const nocopy = c.bool(m.volume.nocopy, [...at, 'volume', 'nocopy']) ?? false
      const sub = c.str(m.volume.subpath)
      if (nocopy || sub) out.volume = {nocopy, ...(sub ? {subpath: sub} : {})}
    }
    if (type === 'tmpfs') {
      const t = isMap(m.tmpfs) ? m.tmpfs : {}
      out.tmpfs = {}
      const size = c.bytes(t.size, [...at, 'tmpfs', 'size'])
      if (size !== undefined) out.tmpfs.size = size
      const mode = c.int(t.mode, [...at, 'tmpfs', 'mode'])
      if (mode !== undefined) out.tmpfs.mode = mode
    }
    return out
  })
}

function serviceNetworks(v: unknown, c: Converter, path: string[]): Record<string, ServiceNetwork> {
  const out: Record<string, ServiceNetwork> = {}
  if (!isMap(v)) return out
  for (const [name, cfg] of Object.entries(v)) {
    const n: Raw = isMap(cfg) ? cfg : {}
    const at = [...path, name]
    const net: ServiceNetwork = {aliases: c.strings(n.aliases), link_local_ips: c.strings(n.link_local_ips)}
    const v4 = c.str(n.ipv4_address)
    if (v4) net.ipv4_address = v4
    const v6 = c.str(n.ipv6_address)
    if (v6) net.ipv6_address = v6
    const mac = c.str(n.mac_address)
    if (mac) net.mac_address = mac
    const prio = c.int(n.priority, [...at, 'priority'])
    if (prio !== undefined) net.priority = prio
    out[name] = net
  }
  return out
}

function dependsOn(v: unknown, c: Converter, path: string[]): Record<string, DependsOn> {
  const out: Record<string, DependsOn> = {}
  if (!isMap(v)) return out
  for (const [name, d] of Object.entries(v)) {
    const m: Raw = isMap(d) ? d : {}
    const condition = (c.str(m.condition) ?? 'service_started') as DependsOnCondition
    if (!CONDITIONS.has(condition)) c.fail([...path, name, 'condition'], `must be one of "service_started", "service_healthy", "service_completed_successfully"`)
    out[name] = {condition, required: c.bool(m.required, [...path, name, 'required']) ?? true, restart: c.bool(m.restart, [...path, name, 'restart']) ?? false}
  }
  return out
}

function build(v: unknown, c: Converter, path: string[]): BuildConfig | undefined {
  if (!isMap(v)) return undefined
  const b: BuildConfig = {
    context: c.str(v.context) ?? '.',
    args: isMap(v.args) ? (v.args as Record<string, string | null>) : {},
    labels: c.dict(v.labels),
    cache_from: c.strings(v.cache_from),
    extra_hosts: c.strings(v.extra_hosts),
    tags: c.strings(v.tags),
    platforms: c.strings(v.platforms),
  }
  const s = (k: 'dockerfile' | 'dockerfile_inline' | 'target' | 'network') => {
    const x = c.str(v[k])
    if (x !== undefined) b[k] = x
  }
  s('dockerfile')
  s('dockerfile_inline')
  s('target')
  s('network')
  const noCache = c.bool(v.no_cache, [...path, 'no_cache'])
  if (noCache !== undefined) b.no_cache = noCache
  const pull = c.bool(v.pull, [...path, 'pull'])
  if (pull !== undefined) b.pull = pull
  const shm = c.bytes(v.shm_size, [...path, 'shm_size'])
  if (shm !== undefined) b.shm_size = shm
  return b
}

function deploy(v: unknown, c: Converter, path: string[]): DeployConfig | undefined {
  if (!isMap(v)) return undefined
  const {mode, replicas, labels, restart_policy: rp, resources, ...extras} = v
  const d: DeployConfig = {labels: c.dict(labels), extras}
  const m = c.str(mode)
  if (m) d.mode = m
  const r = c.int(replicas, [...path, 'replicas'])
  if (r !== undefined) d.replicas = r
  if (isMap(rp)) {
    const at = [...path, 'restart_policy']
    d.restart_policy = {}
    const cond = c.str(rp.condition)
    if (cond) d.restart_policy.condition = cond
    const delay = c.duration(rp.delay, [...at, 'delay'])
    if (delay !== undefined) d.restart_policy.delay = delay
    const max = c.int(rp.max_attempts, [...at, 'max_attempts'])
    if (max !== undefined) d.restart_policy.max_attempts = max
    const window = c.duration(rp.window, [...at, 'window'])
    if (window !== undefined) d.restart_policy.window = window
  }
  if (isMap(resources)) d.resources = {...(isMap(resources.limits) ? {limits: resources.limits} : {}), ...(isMap(resources.reservations) ? {reservations: resources.reservations} : {})}
  return d
}

function fileObjects(v: unknown, c: Converter, path: string[]): ServiceFileObject[] {
  if (!Array.isArray(v)) return []
  return v.map((o: Raw, i) => {
    const out: ServiceFileObject = {source: c.str(o.source) ?? ''}
    const target = c.str(o.target)
    if (target) out.target = target
    const uid = c.str(o.uid)
    if (uid) out.uid = uid
    const gid = c.str(o.gid)
    if (gid) out.gid = gid
    const mode = c.int(o.mode, [...path, `[${i}]`, 'mode'])
    if (mode !== undefined) out.mode = mode
    return out
  })
}

/** Attributes this module turns into typed fields; anything else goes to `extras`. */
const KNOWN = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes', 'tmpfs', 'networks', 'network_mode',
  'depends_on', 'healthcheck', 'restart', 'labels', 'annotations', 'user', 'working_dir', 'hostname', 'domainname', 'init', 'read_only',
  'privileged', 'stop_signal', 'stop_grace_period', 'extra_hosts', 'dns', 'dns_search', 'dns_opt', 'cap_add', 'cap_drop', 'ulimits',
  'shm_size', 'container_name', 'scale', 'stdin_open', 'tty', 'security_opt', 'sysctls', 'devices', 'group_add', 'pid', 'ipc', 'platform',
  'pull_policy', 'mem_limit', 'mem_reservation', 'memswap_limit', 'cpus', 'pids_limit', 'mac_address', 'logging', 'links', 'external_links',
  'volumes_from', 'profiles', 'deploy', 'secrets', 'configs', 'label_file',
])

/**
 * One merged service → ServiceConfig. `environment` is the service's env_file contents (read by
 * the caller, in order) with `environment:` over them; bare keys are resolved by `lookup`.
 */
export function normalizeService(name: string, svc: Raw, c: Converter, envFromFiles: Record<string, string>, lookup: (k: string) => string | undefined, labelsFromFiles: Record<string, string> = {}): ServiceConfig {
  const path = ['services', name]
  const at = (k: string) => [...path, k]
  const environment: Record<string, string | null> = {...envFromFiles}
  if (isMap(svc.environment)) {
    for (const [k, v] of Object.entries(svc.environment)) environment[k] = v === null || v === undefined ? (lookup(k) ?? null) : scalarString(v)
  }
  const envFiles: EnvFile[] = Array.isArray(svc.env_file)
    ? svc.env_file.map((e: Raw, i) => {
        const f: EnvFile = {path: scalarString(e.path), required: c.bool(e.required, [...path, 'env_file', `[${i}]`, 'required']) ?? true}
        const format = c.str(e.format)
        if (format) f.format = format
        return f
      })
    : []
  const deployCfg = deploy(svc.deploy, c, at('deploy'))
  const scale = c.int(svc.scale, at('scale')) ?? deployCfg?.replicas ?? 1
  if (scale < 0) c.fail(at('scale'), 'must not be negative')
  const networkMode = c.str(svc.network_mode)
  let networks = serviceNetworks(svc.networks, c, at('networks'))
  if (networkMode !== undefined && Object.keys(networks).length > 0) c.fail(at('network_mode'), '"network_mode" and "networks" cannot be combined')
  if (networkMode === undefined && Object.keys(networks).length === 0) networks = {default: {aliases: [], link_local_ips: []}}
  const ulimits: Record<string, {soft: number; hard: number}> = {}
  if (isMap(svc.ulimits)) {
    for (const [k, l] of Object.entries(svc.ulimits)) {
      const m: Raw = isMap(l) ? l : {}
      const soft = c.int(m.soft, [...path, 'ulimits', k, 'soft'])
      const hard = c.int(m.hard, [...path, 'ulimits', k, 'hard'])
      if (soft === undefined || hard === undefined) c.fail([...path, 'ulimits', k], 'needs "soft" and "hard" (or a single number)')
      ulimits[k] = {soft, hard}
    }
  }
  const extras: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(svc)) if (!KNOWN.has(k)) extras[k] = v

  const out: ServiceConfig = {
    name,
    command: c.argv(svc.command, at('command')),
    entrypoint: c.argv(svc.entrypoint, at('entrypoint')),
    environment,
    env_file: envFiles,
    ports: ports(svc.ports, c, at('ports')),
    expose: c.strings(svc.expose),
    volumes: volumes(svc.volumes, c, at('volumes')),
    tmpfs: c.strings(svc.tmpfs),
    networks,
    depends_on: dependsOn(svc.depends_on, c, at('depends_on')),
    labels: {...labelsFromFiles, ...c.dict(svc.labels)},
    annotations: c.dict(svc.annotations),
    read_only: c.bool(svc.read_only, at('read_only')) ?? false,
    privileged: c.bool(svc.privileged, at('privileged')) ?? false,
    extra_hosts: c.strings(svc.extra_hosts),
    dns: c.strings(svc.dns),
    dns_search: c.strings(svc.dns_search),
    dns_opt: c.strings(svc.dns_opt),
    cap_add: c.strings(svc.cap_add),
    cap_drop: c.strings(svc.cap_drop),
    ulimits,
    scale,
    stdin_open: c.bool(svc.stdin_open, at('stdin_open')) ?? false,
    tty: c.bool(svc.tty, at('tty')) ?? false,
    security_opt: c.strings(svc.security_opt),
    sysctls: c.dict(svc.sysctls),
    devices: (Array.isArray(svc.devices) ? svc.devices : []).map((d: unknown) => (isMap(d) ? [d.source, d.target ?? d.source, d.permissions].filter((x) => x !== undefined).map(scalarString).join(':') : scalarString(d))),
    group_add: c.strings(svc.group_add),
    links: c.strings(svc.links),
    external_links: c.strings(svc.external_links),
    volumes_from: c.strings(svc.volumes_from),
    profiles: c.strings(svc.profiles),
    secrets: fileObjects(svc.secrets, c, at('secrets')),
    configs: fileObjects(svc.configs, c, at('configs')),
    extras,
  }
  const str = (k: 'image' | 'user' | 'working_dir' | 'hostname' | 'domainname' | 'stop_signal' | 'container_name' | 'pid' | 'ipc' | 'platform' | 'pull_policy' | 'mac_address') => {
    const v = c.str(svc[k])
    if (v !== undefined) out[k] = v
  }
  for (const k of ['image', 'user', 'working_dir', 'hostname', 'domainname', 'stop_signal', 'container_name', 'pid', 'ipc', 'platform', 'pull_policy', 'mac_address'] as const) str(k)
  if (networkMode !== undefined) out.network_mode = networkMode
  const b = build(svc.build, c, at('build'))
  if (b) out.build = b
  const hc = healthcheck(svc.healthcheck, c, at('healthcheck'))
  if (hc) out.healthcheck = hc
  const restart = restartPolicy(svc, c, path)
  if (restart) out.restart = restart
  const init = c.bool(svc.init, at('init'))
  if (init !== undefined) out.init = init
  const stopGrace = c.duration(svc.stop_grace_period, at('stop_grace_period'))
  if (stopGrace !== undefined) out.stop_grace_period = stopGrace
  for (const k of ['shm_size', 'mem_limit', 'mem_reservation', 'memswap_limit'] as const) {
    const v = k === 'memswap_limit' && scalarString(svc[k]) === '-1' ? -1 : c.bytes(svc[k], at(k))
    if (v !== undefined) out[k] = v
  }
  const cpus = c.float(svc.cpus, at('cpus'))
  if (cpus !== undefined) out.cpus = cpus
  const pids = c.int(svc.pids_limit, at('pids_limit'))
  if (pids !== undefined) out.pids_limit = pids
  if (isMap(svc.logging)) {
    out.logging = {options: c.dict(svc.logging.options)}
    const driver = c.str(svc.logging.driver)
    if (driver) out.logging.driver = driver
  }
  if (deployCfg) out.deploy = deployCfg
  return out
}

/** A top-level network: real name `name:` or PROJECT_KEY (external: `name:` or the key). */
export function normalizeNetwork(key: string, v: Raw, project: string, c: Converter): NetworkConfig {
  const path = ['networks', key]
  const external = c.bool(v.external, [...path, 'external']) ?? false
  const net: NetworkConfig = {
    name: c.str(v.name) ?? (external ? key : `${project}_${key}`),
    driver_opts: c.dict(v.driver_opts),
    external,
    internal: c.bool(v.internal, [...path, 'internal']) ?? false,
    attachable: c.bool(v.attachable, [...path, 'attachable']) ?? false,
    labels: c.dict(v.labels),
  }
  const driver = c.str(v.driver)
  if (driver) net.driver = driver
  const ipv6 = c.bool(v.enable_ipv6, [...path, 'enable_ipv6'])
  if (ipv6 !== undefined) net.enable_ipv6 = ipv6
  if (isMap(v.ipam)) {
    const ipam = v.ipam
    net.ipam = {
      config: (Array.isArray(ipam.config) ? ipam.config : []).map((e: Raw) => {
        const out: {subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string>} = {}
        for (const k of ['subnet', 'ip_range', 'gateway'] as const) {
          const s = c.str(e[k])
          if (s) out[k] = s
        }
        if (isMap(e.aux_addresses)) out.aux_addresses = c.dict(e.aux_addresses)
        return out
      }),
      options: c.dict(ipam.options),
    }
    const d = c.str(ipam.driver)
    if (d) net.ipam.driver = d
  }
  return net
}

export function normalizeVolume(key: string, v: Raw, project: string, c: Converter): VolumeConfig {
  const external = c.bool(v.external, ['volumes', key, 'external']) ?? false
  const vol: VolumeConfig = {name: c.str(v.name) ?? (external ? key : `${project}_${key}`), driver_opts: c.dict(v.driver_opts), external, labels: c.dict(v.labels)}
  const driver = c.str(v.driver)
  if (driver) vol.driver = driver
  return vol
}

export function normalizeFileObject(section: 'secrets' | 'configs', key: string, v: Raw, project: string, c: Converter): FileObjectConfig {
  const external = c.bool(v.external, [section, key, 'external']) ?? false
  const o: FileObjectConfig = {name: c.str(v.name) ?? (external ? key : `${project}_${key}`), external, labels: c.dict(v.labels)}
  for (const k of ['file', 'environment', 'content'] as const) {
    const s = c.str(v[k])
    if (s !== undefined) o[k] = s
  }
  return o
}
