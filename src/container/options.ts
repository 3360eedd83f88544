import type {HealthConfig, HealthFlags} from './health.js'
import type {VolumeRequest} from '../volume/parse.js'

/** Everything `create`/`run` accept, already parsed from flags. */
export interface CreateOptions {
  image: string
  args: string[]
  name?: string
  env: string[]
  envFiles: string[]
  /** The front end's environment, for -e KEY without a value. */
  hostEnv: Record<string, string | undefined>
  workdir?: string
  user?: string
  volumes: string[]
  tmpfs: string[]
  entrypoint?: string
  init: boolean
  readOnly: boolean
  hostname?: string
  runtime?: string
  tty: boolean
  interactive: boolean
  autoRemove: boolean
  network?: string
  /** Every --network value (repeatable: user-defined networks); `network` is the first. */
  networks?: string[]
  /** --network-alias: more DNS names on user-defined networks. */
  networkAliases?: string[]
  /** --ip: the address on the (first) user-defined network. */
  ip?: string
  publish: string[]
  publishAll: boolean
  memory?: string
  cpus?: string
  pidsLimit?: number
  platform?: string
  capAdd: string[]
  capDrop: string[]
  labels: string[]
  /** --security-opt values, as given (parsed by spec/seccomp.ts parseSecurityOpts). */
  securityOpts?: string[]
  /** --log-opt KEY=VALUE (max-size, max-file). */
  logOpts: string[]
  /** --health-* and --no-healthcheck, as given. */
  health?: HealthFlags

  // --- docker parity run/create flags (flags helper) ---
  /** --add-host NAME:IP (IP may be host-gateway). */
  addHosts?: string[]
  dns?: string[]
  dnsSearch?: string[]
  dnsOptions?: string[]
  /** --ulimit NAME=SOFT[:HARD]. */
  ulimits?: string[]
  shmSize?: string
  /** --mount in docker's long syntax. */
  mounts?: string[]
  /** --device /dev/HOST[:/dev/CTR][:rwm]. */
  devices?: string[]
  pid?: string
  ipc?: string
  uts?: string
  /** --sysctl KEY=VALUE. */
  sysctls?: string[]
  groupAdd?: string[]
  stopSignal?: string
  /** Seconds `stop` waits before SIGKILL when not told. */
  stopTimeout?: number
  labelFiles?: string[]
  /** Write the container id to this file (refused when it exists). */
  cidfile?: string
  /** --pull always|missing|never. */
  pull?: string
  privileged?: boolean
  /** --init-path: the init binary to use with --init. */
  initPath?: string
  /** --volumes-from CONTAINER[:ro|rw]. */
  volumesFrom?: string[]
  /** --mount type=volume,... (volume/parse.ts parseMountVolume). */
  volumeMounts?: VolumeRequest[]
  /** --restart no|on-failure[:MAX]|always|unless-stopped. */
  restart?: string
  /** A healthcheck already in docker's shape (compose's `healthcheck:`, CMD form included); wins over `health`. */
  healthConfig?: HealthConfig
}
