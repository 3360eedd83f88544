import {Flags} from '@oclif/core'
import type {CreateOptions} from '../engine/containers.js'

/** Flags shared by `run` and `create` (docker's names and short forms). */
export const createFlags = {
  name: Flags.string({description: 'assign a name to the container'}),
  env: Flags.string({char: 'e', description: 'set an environment variable (KEY=VALUE, or KEY to pass it from here)', multiple: true, multipleNonGreedy: true}),
  'env-file': Flags.string({description: 'read environment variables from a file', multiple: true, multipleNonGreedy: true}),
  workdir: Flags.string({char: 'w', description: 'working directory inside the container'}),
  user: Flags.string({char: 'u', description: 'user: name|uid[:group|gid]'}),
  volume: Flags.string({char: 'v', description: 'bind mount a host path: /host:/container[:ro]', multiple: true, multipleNonGreedy: true}),
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
  'log-opt': Flags.string({description: 'log rotation: max-size=SIZE (k, m, g units), max-file=N (files kept)', multiple: true, multipleNonGreedy: true}),
}

type Parsed = {
  name?: string
  env?: string[]
  'env-file'?: string[]
  workdir?: string
  user?: string
  volume?: string[]
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
}

export function toCreateOptions(flags: Parsed, image: string, args: string[]): CreateOptions {
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
  }
}
