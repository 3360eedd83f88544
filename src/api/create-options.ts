/**
 * docker's ContainerCreate body (Config + HostConfig + NetworkingConfig, Engine API v1.41)
 * translated to the engine's CreateOptions: the same strings the CLI's flags give, so the API
 * and `ctr-ts create` share every parser and check. Fields ctr-ts cannot honour are refused
 * with a 400 naming them; fields docker ignores when empty are accepted empty.
 */
import type {CreateOptions} from '../engine/containers.js'
import {ApiError} from './http.js'

type Json = Record<string, unknown>

const obj = (v: unknown): Json => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : {})
const strList = (v: unknown, what: string): string[] => {
  if (v === undefined || v === null) return []
  if (typeof v === 'string') return [v]
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new ApiError(400, `${what} must be a list of strings`)
  return v as string[]
}
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined)
const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined)

/** Single-quotes an argument for /bin/sh. */
export function shellQuote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", `'\\''`)}'`
}

/** Go durations in nanoseconds (docker's JSON) as the CLI's duration text. */
const nsText = (ns: unknown): string | undefined => {
  const n = num(ns)
  return n === undefined || n === 0 ? undefined : `${n / 1e6}ms`
}

function healthcheck(v: unknown): CreateOptions['health'] {
  if (v === undefined || v === null) return undefined
  const h = obj(v)
  const test = strList(h.Test, 'Healthcheck.Test')
  const flags: NonNullable<CreateOptions['health']> = {}
  if (test[0] === 'NONE') return {none: true}
  if (test[0] === 'CMD-SHELL') flags.cmd = test.slice(1).join(' ')
  else if (test[0] === 'CMD') flags.cmd = test.slice(1).map(shellQuote).join(' ')
  else if (test.length > 0) throw new ApiError(400, `Healthcheck.Test must start with NONE, CMD or CMD-SHELL, not ${test[0]}`)
  flags.interval = nsText(h.Interval)
  flags.timeout = nsText(h.Timeout)
  flags.startPeriod = nsText(h.StartPeriod)
  flags.startInterval = nsText(h.StartInterval)
  const retries = num(h.Retries)
  if (retries !== undefined && retries !== 0) flags.retries = retries
  for (const k of Object.keys(flags) as Array<keyof typeof flags>) if (flags[k] === undefined) delete flags[k]
  return Object.keys(flags).length > 0 ? flags : undefined
}

/** PortBindings `{"80/tcp": [{"HostIp": "", "HostPort": "8080"}]}` → `-p` values. */
export function publishFromBindings(v: unknown): string[] {
  const out: string[] = []
  for (const [port, list] of Object.entries(obj(v))) {
    const [cport, proto = 'tcp'] = port.split('/')
    const bindings = Array.isArray(list) && list.length > 0 ? list : [{}]
    for (const b of bindings) {
      const ip = str(obj(b).HostIp)
      // "0" and "" both ask for a free host port (testcontainers sends "0")
      const given = str(obj(b).HostPort) ?? ''
      const hp = given === '0' ? '' : given
      const host = ip ? `${ip.includes(':') ? `[${ip}]` : ip}:${hp}:` : hp ? `${hp}:` : ''
      out.push(`${host}${cport}/${proto}`)
    }
  }
  return out
}

/** HostConfig.Mounts (docker's mount.Mount) → `--mount` values. */
function mountsFrom(v: unknown): string[] {
  if (v === undefined || v === null) return []
  if (!Array.isArray(v)) throw new ApiError(400, 'HostConfig.Mounts must be a list')
  return v.map((m0) => {
    const m = obj(m0)
    const type = str(m.Type) ?? 'volume'
    const target = str(m.Target)
    if (!target) throw new ApiError(400, 'a mount needs a Target')
    const parts = [`type=${type}`]
    const source = str(m.Source)
    if (source) parts.push(`source=${source}`)
    parts.push(`target=${target}`)
    if (m.ReadOnly === true) parts.push('readonly')
    const bind = obj(m.BindOptions)
    if (str(bind.Propagation)) parts.push(`bind-propagation=${bind.Propagation}`)
    const vol = obj(m.VolumeOptions)
    if (vol.NoCopy === true) parts.push('volume-nocopy')
    for (const [k, val] of Object.entries(obj(vol.Labels))) parts.push(`volume-label=${k}=${String(val)}`)
    const tmpfs = obj(m.TmpfsOptions)
    if (num(tmpfs.SizeBytes)) parts.push(`tmpfs-size=${tmpfs.SizeBytes}`)
    if (num(tmpfs.Mode)) parts.push(`tmpfs-mode=${(tmpfs.Mode as number).toString(8)}`)
    return parts.join(',')
  })
}

function restartFrom(v: unknown): string | undefined {
  const r = obj(v)
  const name = str(r.Name)
  if (!name || name === 'no') return undefined
  const max = num(r.MaximumRetryCount)
  return name === 'on-failure' && max ? `on-failure:${max}` : name
}

/** docker's NetworkMode: default/bridge = ctr-ts's default network; host, none, container:X, or a network's name. */
function networksFrom(hc: Json, nc: Json): Pick<CreateOptions, 'network' | 'networks' | 'networkAliases' | 'ip'> {
  const mode = str(hc.NetworkMode)
  const endpoints = obj(nc.EndpointsConfig)
  const names: string[] = []
  const aliases: string[] = []
  let ip: string | undefined
  const isDefault = (n: string) => n === 'default' || n === 'bridge'
  if (mode && !isDefault(mode)) names.push(mode)
  for (const [name, ep0] of Object.entries(endpoints)) {
    if (isDefault(name)) continue
    if (!names.includes(name)) names.push(name)
    const ep = obj(ep0)
    aliases.push(...strList(ep.Aliases, `EndpointsConfig.${name}.Aliases`))
    ip ??= str(obj(ep.IPAMConfig).IPv4Address)
  }
  if (names.length === 0) return {}
  return {network: names[0], networks: names, networkAliases: aliases.length ? aliases : undefined, ip}
}

function ulimitsFrom(v: unknown): string[] {
  if (!Array.isArray(v)) return []
  return v.map((u0) => {
    const u = obj(u0)
    return `${String(u.Name)}=${num(u.Soft) ?? 0}:${num(u.Hard) ?? num(u.Soft) ?? 0}`
  })
}

/** Fields of HostConfig that ctr-ts cannot do, refused when set to anything but their zero value. */
const UNSUPPORTED_HOST: ReadonlyArray<[string, string]> = [
  ['CgroupParent', 'a cgroup parent'],
  ['UsernsMode', 'another user namespace mode'],
  ['Isolation', 'an isolation technology'],
  ['CpusetCpus', 'cpuset limits'],
  ['CpuShares', 'CPU shares'],
  ['BlkioWeight', 'block I/O weights'],
  ['OomKillDisable', 'oom-kill-disable'],
  ['VolumeDriver', 'volume drivers'],
]

export interface CreateRequest {
  name?: string
  body: Json
  /** The service's environment (for Env entries without a value). */
  hostEnv: Record<string, string | undefined>
}

export function createOptionsFromApi(req: CreateRequest): CreateOptions {
  const c = req.body
  const hc = obj(c.HostConfig)
  const nc = obj(c.NetworkingConfig)
  const image = str(c.Image)
  if (!image) throw new ApiError(400, 'Config.Image is required')
  for (const [key, what] of UNSUPPORTED_HOST) {
    const v = hc[key]
    if (v !== undefined && v !== null && v !== '' && v !== 0 && v !== false && v !== 'default' && !(Array.isArray(v) && v.length === 0)) {
      throw new ApiError(400, `HostConfig.${key}: ctr-ts does not support ${what}`)
    }
  }
  let entrypoint: string | undefined
  const args: string[] = []
  const ep = c.Entrypoint
  if (ep !== undefined && ep !== null) {
    const list = typeof ep === 'string' ? [ep] : strList(ep, 'Entrypoint')
    entrypoint = list[0] ?? ''
    args.push(...list.slice(1))
  }
  args.push(...strList(c.Cmd, 'Cmd'))
  const labels = Object.entries(obj(c.Labels)).map(([k, v]) => `${k}=${String(v)}`)
  const logConfig = obj(hc.LogConfig)
  const logOpts = Object.entries(obj(logConfig.Config)).map(([k, v]) => `${k}=${String(v)}`)
  const tmpfs = Object.entries(obj(hc.Tmpfs)).map(([dst, o]) => (o ? `${dst}:${String(o)}` : dst))
  const memory = num(hc.Memory)
  const nanoCpus = num(hc.NanoCpus)
  const pidsLimit = num(hc.PidsLimit)
  const shm = num(hc.ShmSize)
  const stopTimeout = num(c.StopTimeout)
  const opts: CreateOptions = {
    image,
    args,
    name: req.name || undefined,
    env: strList(c.Env, 'Env'),
    envFiles: [],
    hostEnv: req.hostEnv,
    workdir: str(c.WorkingDir),
    user: str(c.User),
    volumes: strList(hc.Binds, 'HostConfig.Binds'),
    tmpfs,
    entrypoint,
    init: hc.Init === true,
    readOnly: hc.ReadonlyRootfs === true,
    hostname: str(c.Hostname),
    runtime: str(hc.Runtime) === 'runc' ? undefined : str(hc.Runtime),
    tty: c.Tty === true,
    interactive: c.OpenStdin === true,
    autoRemove: hc.AutoRemove === true,
    ...networksFrom(hc, nc),
    publish: publishFromBindings(hc.PortBindings),
    publishAll: hc.PublishAllPorts === true,
    memory: memory ? String(memory) : undefined,
    cpus: nanoCpus ? String(nanoCpus / 1e9) : undefined,
    pidsLimit: pidsLimit && pidsLimit > 0 ? pidsLimit : undefined,
    capAdd: strList(hc.CapAdd, 'HostConfig.CapAdd'),
    capDrop: strList(hc.CapDrop, 'HostConfig.CapDrop'),
    labels,
    securityOpts: strList(hc.SecurityOpt, 'HostConfig.SecurityOpt'),
    logOpts,
    health: healthcheck(c.Healthcheck),
    addHosts: strList(hc.ExtraHosts, 'HostConfig.ExtraHosts'),
    dns: strList(hc.Dns, 'HostConfig.Dns'),
    dnsSearch: strList(hc.DnsSearch, 'HostConfig.DnsSearch'),
    dnsOptions: strList(hc.DnsOptions, 'HostConfig.DnsOptions'),
    ulimits: ulimitsFrom(hc.Ulimits),
    shmSize: shm ? String(shm) : undefined,
    mounts: mountsFrom(hc.Mounts),
    devices: Array.isArray(hc.Devices)
      ? hc.Devices.map((d0) => {
          const d = obj(d0)
          return `${String(d.PathOnHost)}:${str(d.PathInContainer) ?? String(d.PathOnHost)}:${str(d.CgroupPermissions) ?? 'rwm'}`
        })
      : [],
    pid: str(hc.PidMode),
    ipc: str(hc.IpcMode) === 'private' || str(hc.IpcMode) === 'shareable' ? undefined : str(hc.IpcMode),
    uts: str(hc.UTSMode),
    sysctls: Object.entries(obj(hc.Sysctls)).map(([k, v]) => `${k}=${String(v)}`),
    groupAdd: strList(hc.GroupAdd, 'HostConfig.GroupAdd'),
    stopSignal: str(c.StopSignal),
    stopTimeout: stopTimeout,
    pull: 'never',
    privileged: hc.Privileged === true,
    volumesFrom: strList(hc.VolumesFrom, 'HostConfig.VolumesFrom'),
    restart: restartFrom(hc.RestartPolicy),
  }
  return opts
}
