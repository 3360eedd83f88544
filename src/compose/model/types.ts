/**
 * The normalized compose model: what `loadProject` returns after finding the files, parsing,
 * interpolating, merging (-f in order, overrides), validating against the compose-spec schema
 * and normalizing every short syntax to one long shape, as docker compose v2 (compose-go) does.
 *
 * Field names are the compose specification's own (snake_case), so `compose config` prints the
 * model as it is. Everything optional in the spec that has an obvious empty value is given it
 * (lists [], maps {}, booleans false), so the runner never checks for both `undefined` and `[]`.
 * Durations are milliseconds, sizes bytes.
 */

/** A whole project: the files merged into one model. */
export interface ComposeProject {
  /** The project name: -p, COMPOSE_PROJECT_NAME, top-level `name:`, or the directory name (normalized). */
  name: string
  /** The project directory: relative paths in the files (build contexts, binds, env_file) resolve against it. */
  workingDir: string
  /** The files read, absolute, in merge order (overrides last). */
  composeFiles: string[]
  /** The variables interpolation used: the process environment over the .env/--env-file files, and COMPOSE_PROJECT_NAME (the name). */
  environment: Record<string, string>
  /** The environment files read for interpolation (absolute): --env-file, else PROJECT_DIR/.env when present. */
  envFiles: string[]
  /** The profiles that were enabled: --profile (else COMPOSE_PROFILES), and those of the services named in LoadOptions.services. */
  profiles: string[]
  /** The active services (no profile, or one of theirs enabled), keyed by service name, in file order. */
  services: Record<string, ServiceConfig>
  /** Services left out because none of their profiles is enabled (kept so `--profile` errors and `down` can name them). */
  disabledServices: Record<string, ServiceConfig>
  /** Top-level networks, `default` included when a service uses it; keyed by the name the services use. */
  networks: Record<string, NetworkConfig>
  /** Top-level volumes, keyed by the name the services use. */
  volumes: Record<string, VolumeConfig>
  /** Top-level secrets and configs: kept as read (file/environment/content, external, name). */
  secrets: Record<string, FileObjectConfig>
  configs: Record<string, FileObjectConfig>
}

export interface ServiceConfig {
  /** The key under `services:`. */
  name: string
  image?: string
  build?: BuildConfig
  /** Replaces the image's CMD. `null`: not set (the image's CMD); `[]`: explicitly empty. Strings are split as a shell would (shlex). */
  command: string[] | null
  /** Replaces the image's ENTRYPOINT. `null`: not set; `[]`: explicitly empty (docker: clears it). */
  entrypoint: string[] | null
  /**
   * env_file entries first (in order), then `environment:` over them. `null`: a bare `KEY` whose
   * variable is not set in the project's environment (docker compose leaves it out of the container).
   */
  environment: Record<string, string | null>
  /** The env_file entries as declared (already read into `environment`). */
  env_file: EnvFile[]
  /** Published and exposed ports, one entry per port (short-syntax ranges expanded). */
  ports: ServicePort[]
  /** `expose:` entries as strings ("80", "8000-8010", "53/udp"). */
  expose: string[]
  /** Mounts in long syntax; bind sources absolute, named volume sources are the top-level key. */
  volumes: ServiceVolume[]
  /** `tmpfs:` entries as docker's --tmpfs values ("/run", "/tmp:size=64m"). */
  tmpfs: string[]
  /** Networks the service joins (keys of project.networks). Empty when network_mode is set; `{default}` when none is given. */
  networks: Record<string, ServiceNetwork>
  /** host, none, bridge, service:NAME, container:NAME. */
  network_mode?: string
  depends_on: Record<string, DependsOn>
  healthcheck?: Healthcheck
  /** docker's --restart value, from `restart:` or else `deploy.restart_policy`: no, always, on-failure[:N], unless-stopped. */
  restart?: string
  /** Container labels: label_file entries, then `labels:` over them. */
  labels: Record<string, string>
  /** OCI annotations, as read. */
  annotations: Record<string, string>
  user?: string
  working_dir?: string
  hostname?: string
  domainname?: string
  init?: boolean
  read_only: boolean
  privileged: boolean
  stop_signal?: string
  /** ms; docker's default (10 s) when not set is the runner's choice. */
  stop_grace_period?: number
  /** "host:ip" entries (docker's --add-host form); the map and `host=ip` forms are converted. */
  extra_hosts: string[]
  dns: string[]
  dns_search: string[]
  dns_opt: string[]
  cap_add: string[]
  cap_drop: string[]
  ulimits: Record<string, {soft: number; hard: number}>
  /** bytes */
  shm_size?: number
  container_name?: string
  /** The number of containers: `scale`, else `deploy.replicas`, else 1 (0 allowed). */
  scale: number
  stdin_open: boolean
  tty: boolean
  security_opt: string[]
  sysctls: Record<string, string>
  /** "/dev/x[:/dev/y[:rwm]]" entries. */
  devices: string[]
  group_add: string[]
  pid?: string
  ipc?: string
  platform?: string
  /** always, never, missing, build, if_not_present (= missing), daily/weekly/every_N. */
  pull_policy?: string
  /** bytes */
  mem_limit?: number
  mem_reservation?: number
  memswap_limit?: number
  cpus?: number
  pids_limit?: number
  mac_address?: string
  logging?: {driver?: string; options: Record<string, string>}
  /** `links:` as "service[:alias]". */
  links: string[]
  external_links: string[]
  volumes_from: string[]
  profiles: string[]
  /** Kept as read, after normalization of restart_policy and replicas above. */
  deploy?: DeployConfig
  secrets: ServiceFileObject[]
  configs: ServiceFileObject[]
  /** Anything else the spec allows (cgroup, runtime, storage_opt, x-*, ...), as read. */
  extras: Record<string, unknown>
}

export interface BuildConfig {
  /** Absolute path, or a URL (git) as written. */
  context: string
  /** Relative to the context, as written (default "Dockerfile"). */
  dockerfile?: string
  dockerfile_inline?: string
  args: Record<string, string | null>
  target?: string
  labels: Record<string, string>
  network?: string
  no_cache?: boolean
  pull?: boolean
  cache_from: string[]
  extra_hosts: string[]
  shm_size?: number
  tags: string[]
  platforms: string[]
}

export interface EnvFile {
  /** Absolute. */
  path: string
  /** false: a missing file is ignored (long syntax `required: false`). */
  required: boolean
  format?: string
}

export interface ServicePort {
  /** The container port. */
  target: number
  /** The host port or range ("8080", "8000-8010"); absent: a random host port (or expose-only when mode says so). */
  published?: string
  host_ip?: string
  protocol: 'tcp' | 'udp' | 'sctp'
  /** "ingress" (compose's default) or "host". */
  mode: string
  name?: string
  app_protocol?: string
}

export type VolumeType = 'volume' | 'bind' | 'tmpfs' | 'npipe' | 'cluster' | 'image'

export interface ServiceVolume {
  type: VolumeType
  /** bind: absolute host path; volume: the top-level volume key (absent: an anonymous volume). */
  source?: string
  target: string
  read_only: boolean
  consistency?: string
  bind?: {propagation?: string; create_host_path: boolean; selinux?: 'z' | 'Z'}
  /** Only when nocopy or subpath is set. */
  volume?: {nocopy: boolean; subpath?: string}
  tmpfs?: {size?: number; mode?: number}
}

export interface ServiceNetwork {
  aliases: string[]
  ipv4_address?: string
  ipv6_address?: string
  mac_address?: string
  priority?: number
  link_local_ips: string[]
}

export type DependsOnCondition = 'service_started' | 'service_healthy' | 'service_completed_successfully'

export interface DependsOn {
  condition: DependsOnCondition
  /** false: a missing or disabled dependency is not an error (docker compose: warns and goes on). */
  required: boolean
  /** Restart this service when the dependency is updated. */
  restart: boolean
}

export interface Healthcheck {
  /** ["CMD", arg...], ["CMD-SHELL", "cmd"] or ["NONE"]; absent with `disable` or when only timers are overridden (the image's test). */
  test?: string[]
  /** ms */
  interval?: number
  timeout?: number
  start_period?: number
  start_interval?: number
  retries?: number
  /** `disable: true` or `test: ["NONE"]`: no healthcheck, not even the image's. */
  disable: boolean
}

export interface DeployConfig {
  mode?: string
  replicas?: number
  labels: Record<string, string>
  restart_policy?: {condition?: string; delay?: number; max_attempts?: number; window?: number}
  resources?: {limits?: Record<string, unknown>; reservations?: Record<string, unknown>}
  /** update_config, rollback_config, placement, endpoint_mode: as read. */
  extras: Record<string, unknown>
}

export interface NetworkConfig {
  /** The real network name: `name:`, else PROJECT_KEY; external ones: `name:` or the key. */
  name: string
  driver?: string
  driver_opts: Record<string, string>
  ipam?: {driver?: string; config: Array<{subnet?: string; ip_range?: string; gateway?: string; aux_addresses?: Record<string, string>}>; options: Record<string, string>}
  external: boolean
  internal: boolean
  attachable: boolean
  enable_ipv6?: boolean
  labels: Record<string, string>
}

export interface VolumeConfig {
  /** The real volume name: `name:`, else PROJECT_KEY; external ones: `name:` or the key. */
  name: string
  driver?: string
  driver_opts: Record<string, string>
  external: boolean
  labels: Record<string, string>
}

export interface FileObjectConfig {
  name: string
  file?: string
  environment?: string
  content?: string
  external: boolean
  labels: Record<string, string>
}

export interface ServiceFileObject {
  source: string
  target?: string
  uid?: string
  gid?: string
  mode?: number
}

/** What `loadProject` takes: the compose flags and environment a command was given. */
export interface LoadOptions {
  /** -f, in order; "-" reads stdin. Default: COMPOSE_FILE, else the file found from workingDir upward plus its override. */
  files?: string[]
  /** -p */
  projectName?: string
  /** --env-file, in order (later ones win); default: PROJECT_DIR/.env. */
  envFiles?: string[]
  /** --profile; default: COMPOSE_PROFILES. */
  profiles?: string[]
  /** Where relative -f paths resolve and the search for compose files starts (default: process.cwd()). */
  workingDir?: string
  /** --project-directory; default: the first compose file's directory. */
  projectDirectory?: string
  /** The process environment (default: process.env); it wins over .env files. */
  env?: Record<string, string | undefined>
  /** The text of "-" (stdin) when a file is "-"; default: read process.stdin. */
  stdin?: () => Promise<string>
  /**
   * Services named on the command line (`up web`): their profiles are enabled too, as docker
   * compose does. Unknown names: an error.
   */
  services?: string[]
  /** Warnings docker compose prints and goes on (unset variables, obsolete `version`); default: dropped. */
  onWarning?: (message: string) => void
  /** false: leave ${VAR} as written (compose config --no-interpolate). Default true. */
  interpolate?: boolean
}

/** The compose labels docker compose puts on what it creates (the runner sets them; listed here so both sides agree). */
export const COMPOSE_LABELS = {
  project: 'com.docker.compose.project',
  service: 'com.docker.compose.service',
  containerNumber: 'com.docker.compose.container-number',
  oneoff: 'com.docker.compose.oneoff',
  configHash: 'com.docker.compose.config-hash',
  projectWorkingDir: 'com.docker.compose.project.working_dir',
  projectConfigFiles: 'com.docker.compose.project.config_files',
  projectEnvironmentFile: 'com.docker.compose.project.environment_file',
  network: 'com.docker.compose.network',
  volume: 'com.docker.compose.volume',
  version: 'com.docker.compose.version',
  dependsOn: 'com.docker.compose.depends_on',
  image: 'com.docker.compose.image',
} as const
