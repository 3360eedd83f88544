import {Args} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {eraseCredentials} from '../auth/credentials.js'
import {normalizeRegistry} from '../auth/docker-config.js'

export default class Logout extends CtrCommand {
  static override summary = 'Log out from a registry'
  static override description =
    'Removes the stored credentials for REGISTRY (default docker.io): from the configured credential helper and from ~/.docker/config.json.'
  static override examples = ['<%= config.bin %> logout', '<%= config.bin %> logout registry.example.com']
  static override args = {
    registry: Args.string({ignoreStdin: true, description: 'registry host[:port] (default docker.io)', required: false}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Logout)
    const ctx = await this.context(flags.config)
    const registry = normalizeRegistry(args.registry)
    if (await eraseCredentials(registry, {config: ctx.config})) this.log(`Removing login credentials for ${registry}`)
    else this.log(`Not logged in to ${registry}`)
  }
}
