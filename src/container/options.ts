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
}
