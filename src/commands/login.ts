import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {storeCredentials} from '../auth/credentials.js'
import {normalizeRegistry} from '../auth/docker-config.js'
import {UnauthorizedError, UsageError} from '../errors.js'
import {RegistryClient} from '../registry/client.js'
import {canPrompt, promptHidden, promptLine, readStdin} from '../system/prompt.js'

export default class Login extends CtrCommand {
  static override summary = 'Log in to a registry'
  static override description = [
    'Checks the credentials against the registry (GET /v2/, then its token service), and stores them only when they are accepted:',
    'through the credential helper configured for the registry (registries.HOST.credHelper in the ctr-ts configuration, or credHelpers/credsStore in ~/.docker/config.json),',
    'otherwise in ~/.docker/config.json ($DOCKER_CONFIG/config.json) as docker does (mode 0600). REGISTRY defaults to docker.io.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> login -u alice registry.example.com',
    'echo "$TOKEN" | <%= config.bin %> login -u alice --password-stdin ghcr.io',
    '<%= config.bin %> login   # Docker Hub, prompts for username and password',
  ]
  static override args = {
    registry: Args.string({ignoreStdin: true, description: 'registry host[:port] (default docker.io)', required: false}),
  }
  static override flags = {
    username: Flags.string({char: 'u', description: 'user name'}),
    password: Flags.string({char: 'p', description: 'password or token (insecure: visible in the process list; prefer --password-stdin)'}),
    'password-stdin': Flags.boolean({description: 'read the password from stdin'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Login)
    const ctx = await this.context(flags.config)
    const registry = normalizeRegistry(args.registry)
    if (flags.password !== undefined && flags['password-stdin']) throw new UsageError('--password and --password-stdin are mutually exclusive')

    let username = flags.username
    if (username === undefined) {
      if (flags['password-stdin']) throw new UsageError('--password-stdin needs --username')
      if (!canPrompt()) throw new UsageError('no username given: use --username (stdin is not a terminal)')
      username = (await promptLine('Username: ')).trim()
    }
    if (!username) throw new UsageError('username must not be empty')

    let password: string
    if (flags.password !== undefined) {
      this.warn('using --password on the command line is insecure: use --password-stdin')
      password = flags.password
    } else if (flags['password-stdin']) {
      password = await readStdin()
    } else {
      if (!canPrompt()) throw new UsageError('no password given: use --password-stdin (stdin is not a terminal)')
      password = await promptHidden('Password: ')
    }
    if (!password) throw new UsageError('password must not be empty')

    const creds = {username, password}
    // Checked against the registry itself (never a mirror) before anything is stored; the
    // credentials go only to its origin and to the token realm it names.
    const client = new RegistryClient({config: ctx.config, registry, credentials: async () => creds})
    try {
      await client.ping()
    } catch (err) {
      if (err instanceof UnauthorizedError) throw new UnauthorizedError('login failed: unauthorized', {cause: err})
      throw err
    } finally {
      await client.close()
    }
    const store = await storeCredentials(registry, creds, {config: ctx.config})
    if (store.kind === 'file') this.logToStderr(`Credentials stored in ${store.path}`)
    else this.logToStderr(`Credentials stored with docker-credential-${store.helper} (${store.from})`)
    this.log('Login Succeeded')
  }
}
