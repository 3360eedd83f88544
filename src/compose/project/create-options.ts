/**
 * One service container as the engine's create options: the compose model's long syntax turned
 * into what `ctr-ts run` takes (docker compose's own mapping, compose/convergence.go and
 * create.go), plus the networks to connect after create (each with its own aliases).
 */
import {isAbsolute, join} from 'node:path'
import type {CreateOptions} from '../../container/options.js'
import type {HealthConfig} from '../../container/health.js'
import {UsageError} from '../../errors.js'
import type {ComposeProject, Healthcheck, ServiceConfig, ServicePort, ServiceVolume} from '../model/types.js'
import {containerLabels, containerName, labelList, serviceImage} from './labels.js'

/** Names the runner resolved: real network and volume names, and the first container of a service. */
export interface NameResolver {
  network(key: string): string
  volume(key: string): string
  /** The container of service NAME that network_mode/volumes_from service:NAME means. */
  serviceContainer(service: string): string
}

export interface ContainerPlan {
  name: string
  create: CreateOptions
  /** User-defined networks after the first, connected after create with their own aliases. */
  connect: Array<{network: string; aliases: string[]; ip?: string}>
}

export interface PlanOptions {
  number: number
  oneoff?: boolean
  /** `run`: the name, command, tty and stdin of a one-off container. */
  name?: string
  command?: string[]
  tty?: boolean
  interactive?: boolean
  autoRemove?: boolean
  /** `run` without --service-ports publishes nothing. */
  publish?: boolean
  env?: string[]
  user?: string
  workdir?: string
  entrypoint?: string[]
}

const NS_PER_MS = 1_000_000

/** compose's healthcheck as docker's HealthConfig (undefined: the image's, unchanged). */
export function healthConfig(h: Healthcheck | undefined): HealthConfig | undefined {
  if (!h) return undefined
  if (h.disable) return {Test: ['NONE']}
  const hc: HealthConfig = {Test: h.test ?? []}
  if (h.interval !== undefined) hc.Interval = h.interval * NS_PER_MS
  if (h.timeout !== undefined) hc.Timeout = h.timeout * NS_PER_MS
  if (h.start_period !== undefined) hc.StartPeriod = h.start_period * NS_PER_MS
  if (h.start_interval !== undefined) hc.StartInterval = h.start_interval * NS_PER_MS
  if (h.retries !== undefined) hc.Retries = h.retries
  return hc
}

/** A port as docker's -p value: [IP:][HOST:]CONTAINER[/PROTO]; no published port: a random one. */
export function publishSpec(p: ServicePort): string {
  const proto = p.protocol === 'tcp' ? '' : `/${p.protocol}`
  if (p.published === undefined || p.published === '') return `${p.host_ip ? `${p.host_ip}::` : ''}${p.target}${proto}`
  return `${p.host_ip ? `${p.host_ip}:` : ''}${p.published}:${p.target}${proto}`
}

function sizeOption(bytes: number | undefined): string {
  return bytes === undefined ? '' : `size=${bytes}`
}

/** -v, --tmpfs and --mount values for the service's volumes. */
export function mountSpecs(volumes: ServiceVolume[], resolve: Pick<NameResolver, 'volume'>): {volumes: string[]; tmpfs: string[]; mounts: string[]} {
  const out = {volumes: [] as string[], tmpfs: [] as string[], mounts: [] as string[]}
  for (const v of volumes) {
    const ro = v.read_only ? ':ro' : ''
    switch (v.type) {
      case 'volume':
        if (v.volume?.subpath) throw new UsageError(`volume ${v.source ?? ''}:${v.target}: subpath is not supported`)
        out.volumes.push(v.source ? `${resolve.volume(v.source)}:${v.target}${ro}` : `${v.target}`)
        break
      case 'bind': {
        const opts = [v.read_only ? 'ro' : '', v.bind?.propagation ?? ''].filter(Boolean).join(',')
        out.volumes.push(`${v.source}:${v.target}${opts ? `:${opts}` : ''}`)
        break
      }
      case 'tmpfs': {
        const opts = [sizeOption(v.tmpfs?.size), v.tmpfs?.mode !== undefined ? `mode=${v.tmpfs.mode.toString(8)}` : ''].filter(Boolean).join(',')
        out.tmpfs.push(opts ? `${v.target}:${opts}` : v.target)
        break
      }
      default:
        throw new UsageError(`volume type ${v.type} (${v.target}) is not supported`)
    }
  }
  return out
}

/**
 * secrets and configs from files, as docker compose mounts them without swarm: the file bound
 * read-only at /run/secrets/NAME (secrets) or /NAME (configs), or at `target`.
 */
export function fileObjectMounts(project: ComposeProject, service: ServiceConfig): string[] {
  const out: string[] = []
  for (const [kind, refs] of [['secrets', service.secrets], ['configs', service.configs]] as const) {
    for (const ref of refs) {
      const def = project[kind][ref.source]
      if (!def) throw new UsageError(`service ${service.name} refers to undefined ${kind.slice(0, -1)} ${ref.source}`)
      if (def.file === undefined) throw new UsageError(`${kind.slice(0, -1)} ${ref.source}: only file-based ${kind} are supported (not external, environment or content)`)
      const file = isAbsolute(def.file) ? def.file : join(project.workingDir, def.file)
      const name = ref.target ?? ref.source
      const target = name.startsWith('/') ? name : kind === 'secrets' ? `/run/secrets/${name}` : `/${name}`
      out.push(`${file}:${target}:ro`)
    }
  }
  return out
}

/** docker compose's network_mode as a --network value (empty: the service's networks). */
function networkModeValue(mode: string, resolve: NameResolver): string {
  if (mode.startsWith('service:')) return `container:${resolve.serviceContainer(mode.slice('service:'.length))}`
  if (mode === 'bridge') return 'slirp4netns'
  return mode
}

/** The container command: entrypoint's first word as --entrypoint, the rest before the command. */
function commandLine(entrypoint: string[] | null, command: string[] | null): {entrypoint?: string; args: string[]} {
  if (entrypoint === null) return {args: command ?? []}
  if (entrypoint.length === 0) return {entrypoint: '', args: command ?? []}
  return {entrypoint: entrypoint[0]!, args: [...entrypoint.slice(1), ...(command ?? [])]}
}

/** The create options of container `number` of a service. */
export function containerPlan(project: ComposeProject, service: ServiceConfig, resolve: NameResolver, o: PlanOptions): ContainerPlan {
  const name = o.name ?? containerName(project, service, o.number)
  const {entrypoint, args} = commandLine(o.entrypoint ?? service.entrypoint, o.command ?? service.command)
  const mounts = mountSpecs(service.volumes, resolve)
  const netKeys = Object.keys(service.networks)
  let networks: string[] = []
  let aliases: string[] = []
  let ip: string | undefined
  const connect: ContainerPlan['connect'] = []
  if (service.network_mode !== undefined) networks = [networkModeValue(service.network_mode, resolve)]
  else if (netKeys.length > 0) {
    // the priority decides the first network (docker compose: highest first)
    const sorted = [...netKeys].sort((a, b) => (service.networks[b]!.priority ?? 0) - (service.networks[a]!.priority ?? 0))
    const [first, ...rest] = sorted as [string, ...string[]]
    networks = [resolve.network(first)]
    // one-off containers get no service alias (docker compose: only the service's own containers answer to its name)
    const own = o.oneoff ? [] : [service.name]
    aliases = [...own, ...service.networks[first]!.aliases]
    ip = service.networks[first]!.ipv4_address
    for (const key of rest) connect.push({network: resolve.network(key), aliases: [...own, ...service.networks[key]!.aliases], ip: service.networks[key]!.ipv4_address})
  }
  const env = Object.entries(service.environment).flatMap(([k, v]) => (v === null ? [] : [`${k}=${v}`]))
  const labels = containerLabels(project, service, o.number, o.oneoff === true)
  const logOpts = Object.entries(service.logging?.options ?? {})
    .filter(([k]) => k === 'max-size' || k === 'max-file')
    .map(([k, v]) => `${k}=${v}`)
  const create: CreateOptions = {
    image: serviceImage(project, service),
    args,
    name,
    env: [...env, ...(o.env ?? [])],
    envFiles: [],
    hostEnv: process.env,
    workdir: o.workdir ?? service.working_dir,
    user: o.user ?? service.user,
    volumes: [...mounts.volumes, ...fileObjectMounts(project, service)],
    tmpfs: [...service.tmpfs, ...mounts.tmpfs],
    mounts: mounts.mounts,
    entrypoint,
    init: service.init === true,
    readOnly: service.read_only,
    hostname: service.hostname,
    tty: o.tty ?? service.tty,
    interactive: o.interactive ?? service.stdin_open,
    autoRemove: o.autoRemove === true,
    network: networks[0],
    networks,
    networkAliases: aliases,
    ip,
    publish: o.publish === false ? [] : service.ports.map(publishSpec),
    publishAll: false,
    memory: service.mem_limit !== undefined ? String(service.mem_limit) : undefined,
    cpus: service.cpus !== undefined ? String(service.cpus) : undefined,
    pidsLimit: service.pids_limit,
    platform: service.platform,
    capAdd: service.cap_add,
    capDrop: service.cap_drop,
    labels: labelList(labels),
    securityOpts: service.security_opt,
    logOpts,
    healthConfig: healthConfig(service.healthcheck),
    addHosts: service.extra_hosts,
    dns: service.dns,
    dnsSearch: service.dns_search,
    dnsOptions: service.dns_opt,
    ulimits: Object.entries(service.ulimits).map(([k, u]) => `${k}=${u.soft}:${u.hard}`),
    shmSize: service.shm_size !== undefined ? String(service.shm_size) : undefined,
    devices: service.devices,
    pid: service.pid,
    ipc: service.ipc?.startsWith('service:') ? `container:${resolve.serviceContainer(service.ipc.slice('service:'.length))}` : service.ipc,
    sysctls: Object.entries(service.sysctls).map(([k, v]) => `${k}=${v}`),
    groupAdd: service.group_add,
    stopSignal: service.stop_signal,
    stopTimeout: service.stop_grace_period !== undefined ? Math.ceil(service.stop_grace_period / 1000) : undefined,
    pull: 'never',
    privileged: service.privileged,
    volumesFrom: service.volumes_from.map((v) => (v.startsWith('container:') ? v.slice('container:'.length) : `${resolve.serviceContainer(v.split(':')[0]!)}${v.includes(':') ? `:${v.split(':')[1]}` : ''}`)),
    restart: o.oneoff ? undefined : service.restart,
  }
  if (service.domainname) create.hostname = `${service.hostname ?? name}.${service.domainname}`
  return {name, create, connect}
}
