import {Flags} from '@oclif/core'
import type {CreateOptions} from '../engine/containers.js'
import {parseMountVolume} from '../volume/parse.js'
import {UsageError} from '../errors.js'
import {ROOTLESS_REFUSED} from '../spec/run-flags.js'

const many = {multiple: true, multipleNonGreedy: true} as const

/** A --mount of type volume (docker's default type when none is given) goes to the volume stage. */
function isVolumeMount(spec: string): boolean {
  const type = spec.split(',').map((kv) => kv.split('=')).find(([k]) => k === 'type')
  return type === undefined || type[1] === 'volume'
}

// --- docker parity run/create flags (flags helper) ---
const parityFlags = {
  'add-host': Flags.string({description: 'add a line to /etc/hosts: NAME:IP (IP host-gateway: the host, 10.0.2.2 with slirp4netns)', ...many}),
  dns: Flags.string({description: 'DNS server for the container (replaces the nameservers of resolv.conf)', ...many}),
  'dns-search': Flags.string({description: 'DNS search domain ("." for none)', ...many}),
  'dns-option': Flags.string({description: 'resolv.conf option (e.g. ndots:2)', ...many, aliases: ['dns-opt']}),
  ulimit: Flags.string({description: 'resource limit NAME=SOFT[:HARD], e.g. nofile=1024:2048 (cannot exceed your own hard limits)', ...many}),
  'shm-size': Flags.string({description: 'size of /dev/shm (e.g. 128m; default 64m)'}),
  mount: Flags.string({description: 'mount in docker\'s long syntax: type=bind,source=/host,target=/ctr[,readonly] | type=tmpfs,target=/ctr[,tmpfs-size=64m] | type=volume,src=NAME,dst=/ctr[,readonly][,volume-nocopy]', ...many}),
  device: Flags.string({description: 'give a host device the user can open: /dev/HOST[:/dev/CONTAINER][:rwm] (bind-mounted)', ...many}),
  pid: Flags.string({description: 'PID namespace: host, or container:NAME'}),
  ipc: Flags.string({description: 'IPC namespace: private (default), shareable, host, or container:NAME'}),
  uts: Flags.string({description: 'UTS namespace: host (the host\'s hostname)'}),
  sysctl: Flags.string({description: 'namespaced kernel parameter KEY=VALUE (net.*, kernel.shm*, kernel.msg*, kernel.sem, fs.mqueue.*)', ...many}),
  'group-add': Flags.string({description: 'additional group (name in the image or gid) for the container process', ...many}),
  'stop-signal': Flags.string({description: "signal that stops the container (default: the image's, else SIGTERM)"}),
  'stop-timeout': Flags.integer({description: 'seconds `stop` waits before SIGKILL (default 10; -1 waits forever)'}),
  'label-file': Flags.string({description: 'read labels from a file of KEY=VALUE lines', ...many}),
  cidfile: Flags.string({description: 'write the container id to this file (must not exist)'}),
  pull: Flags.string({description: 'pull the image: always, missing (default) or never', options: ['always', 'missing', 'never']}),
  privileged: Flags.boolean({description: 'every capability the user namespace gives, no seccomp filter, no masked paths, the host devices you can open'}),
  'init-path': Flags.string({description: 'init binary used with --init (default: tini-static, catatonit or tini)'}),
}

/** docker run flags that make no sense for a rootless container: accepted by the parser, refused with why. */
const refusedFlags = Object.fromEntries(
  Object.entries(ROOTLESS_REFUSED).map(([name, why]) => [
    name,
    name === 'oom-kill-disable' ? Flags.boolean({description: `not supported: ${why}`, hidden: true}) : Flags.string({description: `not supported: ${why}`, hidden: true}),
  ]),
) as Record<string, ReturnType<typeof Flags.string> | ReturnType<typeof Flags.boolean>>

/** Flags shared by `run` and `create` (docker's names and short forms). */
export const createFlags = {
  name: Flags.string({description: 'assign a name to the container'}),
  env: Flags.string({char: 'e', description: 'set an environment variable (KEY=VALUE, or KEY to pass it from here)', multiple: true, multipleNonGreedy: true}),
  'env-file': Flags.string({description: 'read environment variables from a file', multiple: true, multipleNonGreedy: true}),
  workdir: Flags.string({char: 'w', description: 'working directory inside the container'}),
  user: Flags.string({char: 'u', description: 'user: name|uid[:group|gid]'}),
  volume: Flags.string({
    char: 'v',
    description: 'a volume NAME:/path[:ro|nocopy] (created when missing), an anonymous volume /path, or a bind mount /host:/path[:ro]',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'volumes-from': Flags.string({description: "mount another container's volumes and bind mounts: CONTAINER[:ro|rw]", multiple: true, multipleNonGreedy: true}),
  tmpfs: Flags.string({description: 'mount a tmpfs: /path[:options]', multiple: true, multipleNonGreedy: true}),
  entrypoint: Flags.string({description: 'override the image entrypoint'}),
  init: Flags.boolean({description: 'run tini (or catatonit) as PID 1: forwards signals, reaps zombies'}),
  'read-only': Flags.boolean({description: 'mount the root filesystem read-only'}),
  hostname: Flags.string({char: 'h', description: 'container hostname'}),
  runtime: Flags.string({description: 'OCI runtime: runc or crun (or a path)'}),
  tty: Flags.boolean({char: 't', description: 'allocate a pseudo-terminal'}),
  interactive: Flags.boolean({char: 'i', description: 'keep stdin open'}),
  rm: Flags.boolean({description: 'remove the container when it exits'}),
  network: Flags.string({
    description:
      "network: slirp4netns (default; slirp4netns:allow_host_loopback=true lets the container reach the host's 127.0.0.1 at 10.0.2.2), none, host, container:NAME (share its network namespace) or user-defined networks (repeatable)",
    aliases: ['net'],
    multiple: true,
    multipleNonGreedy: true,
  }),
  'network-alias': Flags.string({description: 'another DNS name of the container on its user-defined networks', multiple: true, multipleNonGreedy: true, aliases: ['net-alias']}),
  ip: Flags.string({description: 'IPv4 address on the (first) user-defined network'}),
  publish: Flags.string({char: 'p', description: 'publish a port: [hostIP:]hostPort:containerPort[/tcp|udp]', multiple: true, multipleNonGreedy: true}),
  'publish-all': Flags.boolean({char: 'P', description: "publish the image's exposed ports on free host ports"}),
  memory: Flags.string({char: 'm', description: 'memory limit (e.g. 512m); needs cgroup v2 delegation'}),
  cpus: Flags.string({description: 'number of CPUs (e.g. 1.5); needs cgroup v2 delegation'}),
  'pids-limit': Flags.integer({description: 'process limit; needs cgroup v2 delegation'}),
  platform: Flags.string({description: 'platform to pull if the image is missing: os/arch[/variant]'}),
  'cap-add': Flags.string({description: 'add a capability', multiple: true, multipleNonGreedy: true}),
  'cap-drop': Flags.string({description: 'drop a capability', multiple: true, multipleNonGreedy: true}),
  label: Flags.string({char: 'l', description: 'set a label KEY=VALUE', multiple: true, multipleNonGreedy: true}),
  'security-opt': Flags.string({
    description:
      'security options: seccomp=unconfined (no filter), seccomp=FILE (a docker-format profile) or seccomp=default; no-new-privileges[=true|false] (default false, like docker)',
    multiple: true,
    multipleNonGreedy: true,
  }),
  'health-cmd': Flags.string({description: 'command to run to check health (run with /bin/sh -c in the container)'}),
  'health-interval': Flags.string({description: 'time between running the check (ms|s|m|h) (default 30s)'}),
  'health-timeout': Flags.string({description: 'maximum time to allow one check to run (ms|s|m|h) (default 30s)'}),
  'health-retries': Flags.integer({description: 'consecutive failures needed to report unhealthy (default 3)'}),
  'health-start-period': Flags.string({description: 'start period for the container to initialize before failures count (ms|s|m|h) (default 0s)'}),
  'health-start-interval': Flags.string({description: 'time between running the check during the start period (ms|s|m|h) (default 5s)'}),
  'no-healthcheck': Flags.boolean({description: "disable any container-specified HEALTHCHECK (the image's too)"}),
  'log-opt': Flags.string({description: 'log rotation: max-size=SIZE (k, m, g units), max-file=N (files kept)', multiple: true, multipleNonGreedy: true}),
  restart: Flags.string({description: 'restart policy, run by the shim: no, on-failure[:MAX], always or unless-stopped'}),
  ...parityFlags,
  ...refusedFlags,
}

type Parsed = {
  name?: string
  env?: string[]
  'env-file'?: string[]
  workdir?: string
  user?: string
  volume?: string[]
  'volumes-from'?: string[]
  tmpfs?: string[]
  entrypoint?: string
  init: boolean
  'read-only': boolean
  hostname?: string
  runtime?: string
  tty: boolean
  interactive: boolean
  rm: boolean
  network?: string[]
  'network-alias'?: string[]
  ip?: string
  publish?: string[]
  'publish-all': boolean
  memory?: string
  cpus?: string
  'pids-limit'?: number
  platform?: string
  'cap-add'?: string[]
  'cap-drop'?: string[]
  label?: string[]
  'security-opt'?: string[]
  'log-opt'?: string[]
  restart?: string
  'health-cmd'?: string
  'health-interval'?: string
  'health-timeout'?: string
  'health-retries'?: number
  'health-start-period'?: string
  'health-start-interval'?: string
  'no-healthcheck'?: boolean
  // --- docker parity run/create flags (flags helper) ---
  'add-host'?: string[]
  dns?: string[]
  'dns-search'?: string[]
  'dns-option'?: string[]
  ulimit?: string[]
  'shm-size'?: string
  mount?: string[]
  device?: string[]
  pid?: string
  ipc?: string
  uts?: string
  sysctl?: string[]
  'group-add'?: string[]
  'stop-signal'?: string
  'stop-timeout'?: number
  'label-file'?: string[]
  cidfile?: string
  pull?: string
  privileged?: boolean
  'init-path'?: string
}

/** One clear line for a docker flag that cannot work rootless. */
function refuseRootlessFlags(flags: object): void {
  for (const [name, why] of Object.entries(ROOTLESS_REFUSED)) {
    const v = (flags as Record<string, unknown>)[name]
    if (v !== undefined && v !== false) throw new UsageError(`--${name} is not supported by ctr-ts: ${why}`)
  }
}

export function toCreateOptions(flags: Parsed, image: string, args: string[]): CreateOptions {
  refuseRootlessFlags(flags)
  return {
    image,
    args,
    name: flags.name,
    env: flags.env ?? [],
    envFiles: flags['env-file'] ?? [],
    hostEnv: process.env,
    workdir: flags.workdir,
    user: flags.user,
    volumes: flags.volume ?? [],
    tmpfs: flags.tmpfs ?? [],
    entrypoint: flags.entrypoint,
    init: flags.init,
    readOnly: flags['read-only'],
    hostname: flags.hostname,
    runtime: flags.runtime,
    tty: flags.tty,
    interactive: flags.interactive,
    autoRemove: flags.rm,
    network: flags.network?.[0],
    networks: flags.network ?? [],
    networkAliases: flags['network-alias'] ?? [],
    ip: flags.ip,
    publish: flags.publish ?? [],
    publishAll: flags['publish-all'],
    memory: flags.memory,
    cpus: flags.cpus,
    pidsLimit: flags['pids-limit'],
    platform: flags.platform,
    capAdd: flags['cap-add'] ?? [],
    capDrop: flags['cap-drop'] ?? [],
    labels: flags.label ?? [],
    securityOpts: flags['security-opt'] ?? [],
    logOpts: flags['log-opt'] ?? [],
    health: {
      cmd: flags['health-cmd'],
      interval: flags['health-interval'],
      timeout: flags['health-timeout'],
      retries: flags['health-retries'],
      startPeriod: flags['health-start-period'],
      startInterval: flags['health-start-interval'],
      none: flags['no-healthcheck'],
    },
    // --- docker parity run/create flags (flags helper) ---
    addHosts: flags['add-host'],
    dns: flags.dns,
    dnsSearch: flags['dns-search'],
    dnsOptions: flags['dns-option'],
    ulimits: flags.ulimit,
    shmSize: flags['shm-size'],
    mounts: flags.mount,
    devices: flags.device,
    pid: flags.pid,
    ipc: flags.ipc,
    uts: flags.uts,
    sysctls: flags.sysctl,
    groupAdd: flags['group-add'],
    stopSignal: flags['stop-signal'],
    stopTimeout: flags['stop-timeout'],
    labelFiles: flags['label-file'],
    cidfile: flags.cidfile,
    pull: flags.pull,
    privileged: flags.privileged,
    initPath: flags['init-path'],
    volumesFrom: flags['volumes-from'] ?? [],
    volumeMounts: (flags.mount ?? []).filter(isVolumeMount).map(parseMountVolume),
    restart: flags.restart,
  }
}
