/**
 * `inspect`'s document for a container: docker's ContainerJSON (Engine API v1.41 field names and
 * shapes) built from the container record, its status and its generated spec, so scripts written
 * for docker (`{{.State.Running}}`, `{{.NetworkSettings.IPAddress}}`, `{{.Config.Env}}`, ...)
 * read the same fields. Fields ctr-ts has and docker lacks stay where they do not clash:
 * `State.ShimPid`, `ImageName`, `HostConfig.Init`/`Runtime`/`Seccomp`, `GraphDriver.Data`.
 */
import type {PortMapping} from '../network/ports.js'
import {SLIRP} from '../network/etc-files.js'
import type {ContainerRecord} from './record.js'
import type {ContainerStatus} from './status.js'

/** Go's zero time as docker prints it for a container never started or never stopped. */
export const ZERO_TIME = '0001-01-01T00:00:00Z'

/** An OCI spec mount, as far as inspect reads it. */
export interface SpecMountLike {
  destination: string
  type?: string
  source?: string
  options?: string[]
}

export interface ContainerInspectInput {
  rec: ContainerRecord
  status: ContainerStatus
  /** Ports actually bound (while it runs), else the record's. */
  boundPorts: PortMapping[]
  paths: {log: string; etc: string; upper: string; work: string; merged: string}
  /** The mounts of the generated spec (user binds and tmpfs are found there). */
  specMounts: SpecMountLike[]
  /** docker's Mounts entries of the record's volumes and binds (volume/mounts.ts), by destination. */
  recordMounts?: ReadonlyArray<{Destination: string}>
  /** The image's Entrypoint, when the image is still in the store (splits Path/Args into Entrypoint and Cmd). */
  imageEntrypoint?: string[] | null
  lowerDirs: string[]
  logConfig: unknown
  /** `inspect -s`: bytes of the writable layer, and of it plus the image's layers. */
  sizes?: {rw: number; rootFs: number}
}

type PortMap = Record<string, Array<{HostIp: string; HostPort: string}> | null>

/** docker's nat.PortMap: `80/tcp` → the host bindings. */
export function portMap(ports: PortMapping[], requested = false): PortMap {
  const out: PortMap = {}
  for (const p of ports) {
    const key = `${p.containerPort}/${p.protocol}`
    const list = out[key] ?? []
    list.push({HostIp: p.hostIp, HostPort: requested && p.hostPort === 0 ? '' : String(p.hostPort)})
    out[key] = list
  }
  return out
}

const SYSTEM_DESTINATIONS = new Set(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup', '/dev/init', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname'])

function userMounts(specMounts: SpecMountLike[]) {
  const binds: string[] = []
  const tmpfs: Record<string, string> = {}
  const mounts: Array<Record<string, unknown>> = []
  for (const m of specMounts) {
    if (SYSTEM_DESTINATIONS.has(m.destination)) continue
    const opts = m.options ?? []
    const ro = opts.includes('ro')
    if (m.type === 'bind' || opts.includes('bind') || opts.includes('rbind')) {
      const propagation = opts.find((o) => /^r?(private|shared|slave)$/.test(o)) ?? 'rprivate'
      binds.push(`${m.source}:${m.destination}${ro ? ':ro' : ''}`)
      mounts.push({Type: 'bind', Source: m.source ?? '', Destination: m.destination, Mode: ro ? 'ro' : '', RW: !ro, Propagation: propagation})
    } else if (m.type === 'tmpfs') {
      tmpfs[m.destination] = opts.join(',')
      mounts.push({Type: 'tmpfs', Source: '', Destination: m.destination, Mode: opts.join(','), RW: !ro, Propagation: ''})
    }
  }
  return {binds, tmpfs, mounts}
}

/** The container's command as the user sees it: without the `/dev/init --` that --init puts in front. */
export function containerCommand(rec: Pick<ContainerRecord, 'args' | 'init'>): string[] {
  return rec.init && rec.args[0] === '/dev/init' && rec.args[1] === '--' ? rec.args.slice(2) : rec.args
}

/** The command split as docker records it: Path + Args, and Config.Entrypoint + Config.Cmd. */
function commandParts(rec: ContainerRecord, imageEntrypoint: string[] | null | undefined) {
  const args = containerCommand(rec)
  const ep = imageEntrypoint ?? []
  const hasEp = ep.length > 0 && ep.length <= args.length && ep.every((a, i) => args[i] === a)
  return {path: args[0] ?? '', args: args.slice(1), entrypoint: hasEp ? ep : null, cmd: hasEp ? args.slice(ep.length) : args}
}

/** docker's network settings for the container's network mode. */
function networkSettings(rec: ContainerRecord, running: boolean, boundPorts: PortMapping[]) {
  const slirp = rec.network === 'slirp4netns'
  const ip = slirp && running ? SLIRP.guest : ''
  const gateway = slirp && running ? SLIRP.gateway : ''
  const endpoint = {
    IPAMConfig: null,
    Links: null,
    Aliases: null,
    NetworkID: rec.network,
    EndpointID: '',
    Gateway: gateway,
    IPAddress: ip,
    IPPrefixLen: ip ? 24 : 0,
    IPv6Gateway: '',
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    MacAddress: '',
    DriverOpts: null,
  }
  return {
    Bridge: '',
    SandboxID: '',
    HairpinMode: false,
    LinkLocalIPv6Address: '',
    LinkLocalIPv6PrefixLen: 0,
    Ports: running && rec.network !== 'host' ? portMap(boundPorts) : {},
    SandboxKey: '',
    SecondaryIPAddresses: null,
    SecondaryIPv6Addresses: null,
    EndpointID: '',
    Gateway: gateway,
    GlobalIPv6Address: '',
    GlobalIPv6PrefixLen: 0,
    IPAddress: ip,
    IPPrefixLen: ip ? 24 : 0,
    IPv6Gateway: '',
    MacAddress: '',
    Networks:
      rec.networks && rec.networks.length > 0
        ? Object.fromEntries(
            rec.networks.map((n) => [
              n.name,
              {
                ...endpoint,
                Aliases: [rec.id.slice(0, 12), ...n.aliases],
                NetworkID: n.id,
                IPAddress: n.ip,
                IPPrefixLen: 24,
                DNSNames: [rec.name, rec.id.slice(0, 12), ...n.aliases],
              },
            ]),
          )
        : {[rec.network]: endpoint},
  }
}

/** docker inspect's ContainerJSON for one container. */
export function containerInspect(input: ContainerInspectInput) {
  const {rec, status: s, paths} = input
  const cmd = commandParts(rec, input.imageEntrypoint)
  const m = userMounts(input.specMounts)
  const exposed = Object.fromEntries(rec.ports.map((p) => [`${p.containerPort}/${p.protocol}`, {}]))
  const exited = s.status === 'exited'
  return {
    Id: rec.id,
    Created: rec.created,
    Path: cmd.path,
    Args: cmd.args,
    State: {
      Status: s.status,
      Running: s.running,
      Paused: s.status === 'paused',
      Restarting: s.restarting === true,
      OOMKilled: false,
      Dead: false,
      Pid: s.running ? (s.containerPid ?? 0) : 0,
      ExitCode: exited ? (s.exit?.exitCode ?? 0) : (s.lastExit?.exitCode ?? 0),
      Error: '',
      StartedAt: s.startedAt ?? ZERO_TIME,
      FinishedAt: (exited ? s.exit?.finishedAt : s.lastExit?.finishedAt) || ZERO_TIME,
      /** ctr-ts: the container's shim process. */
      ShimPid: s.running ? (s.shimPid ?? 0) : 0,
      ...(s.health ? {Health: s.health} : {}),
    },
    Image: rec.image,
    /** ctr-ts: the reference the container was created from. */
    ImageName: rec.imageRef,
    ResolvConfPath: rec.network === 'host' ? '/etc/resolv.conf' : `${paths.etc}/resolv.conf`,
    HostnamePath: `${paths.etc}/hostname`,
    HostsPath: `${paths.etc}/hosts`,
    LogPath: paths.log,
    Name: `/${rec.name}`,
    RestartCount: s.restartCount ?? 0,
    Driver: rec.rootfsDriver ?? 'fuse-overlayfs',
    Platform: 'linux',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    ExecIDs: null,
    ...(input.sizes ? {SizeRw: input.sizes.rw, SizeRootFs: input.sizes.rootFs} : {}),
    HostConfig: {
      Binds: m.binds.length > 0 ? m.binds : null,
      ContainerIDFile: '',
      LogConfig: input.logConfig,
      // docker names the (first) user-defined network, or container:ID
      NetworkMode: rec.networks?.[0]?.name ?? (rec.network === 'container' ? `container:${rec.netnsContainer ?? ''}` : rec.network),
      PortBindings: portMap(rec.ports, true),
      RestartPolicy: rec.restartPolicy ?? {Name: 'no', MaximumRetryCount: 0},
      AutoRemove: rec.autoRemove === true,
      VolumeDriver: '',
      VolumesFrom: null,
      CapAdd: null,
      CapDrop: null,
      Dns: [],
      DnsOptions: [],
      DnsSearch: [],
      ExtraHosts: null,
      GroupAdd: null,
      IpcMode: 'private',
      Links: null,
      OomScoreAdj: 0,
      PidMode: '',
      Privileged: false,
      PublishAllPorts: false,
      ReadonlyRootfs: rec.readOnly === true,
      // docker's form; records of older versions had no filter and no-new-privileges on.
      SecurityOpt: rec.security ? [`seccomp=${rec.security.seccomp}`, `no-new-privileges=${rec.security.noNewPrivileges}`] : ['seccomp=unconfined', 'no-new-privileges=true'],
      ...(Object.keys(m.tmpfs).length > 0 ? {Tmpfs: m.tmpfs} : {}),
      UTSMode: '',
      UsernsMode: '',
      ShmSize: 67108864,
      Runtime: rec.runtime,
      Init: rec.init === true,
      // --add-host, --dns, --privileged, --pid, --ipc, --ulimit, ... as given (run-flags.ts)
      ...rec.hostConfig,
      /** ctr-ts: the seccomp profile chosen and its file. */
      Seccomp: rec.security ? {Profile: rec.security.seccomp, File: rec.security.seccompFile ?? ''} : {Profile: 'unconfined', File: ''},
    },
    GraphDriver: {
      Name: rec.rootfsDriver ?? 'fuse-overlayfs',
      Data: {LowerDir: input.lowerDirs.join(':'), UpperDir: paths.upper, WorkDir: paths.work, MergedDir: paths.merged},
    },
    Mounts: m.mounts.map((x) => input.recordMounts?.find((r) => r.Destination === x.Destination) ?? x),
    Config: {
      Hostname: rec.hostname,
      Domainname: '',
      User: rec.user,
      AttachStdin: rec.stdin === true,
      AttachStdout: true,
      AttachStderr: true,
      ...(rec.ports.length > 0 ? {ExposedPorts: exposed} : {}),
      Tty: rec.tty === true,
      OpenStdin: rec.stdin === true,
      StdinOnce: rec.stdin === true,
      Env: rec.env,
      Cmd: cmd.cmd,
      Image: rec.imageRef,
      Volumes: null,
      WorkingDir: rec.cwd,
      Entrypoint: cmd.entrypoint,
      OnBuild: null,
      Labels: rec.labels ?? {},
      StopSignal: rec.stopSignal,
      ...(rec.stopTimeout !== undefined ? {StopTimeout: rec.stopTimeout} : {}),
      ...(rec.healthcheck ? {Healthcheck: rec.healthcheck} : {}),
    },
    NetworkSettings: networkSettings(rec, s.running, input.boundPorts),
  }
}
export type ContainerInspect = ReturnType<typeof containerInspect>
