import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkConnect} from '../../engine/networks.js'

export default class NetworkConnect extends CtrCommand {
  static override description = 'Connect a container to a user-defined network (a running one at once, a stopped one at its next start)'
  static override examples = ['<%= config.bin %> network connect --alias db backend mydb']
  static override args = {
    network: Args.string({description: 'network name or id', required: true}),
    container: Args.string({description: 'container name or id', required: true}),
  }
  static override flags = {
    alias: Flags.string({description: 'another DNS name of the container on this network', multiple: true, multipleNonGreedy: true}),
    ip: Flags.string({description: 'IPv4 address on this network'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NetworkConnect)
    const ctx = await this.context(flags.config)
    await networkConnect(ctx, {network: args.network, container: args.container, aliases: flags.alias ?? [], ip: flags.ip})
  }
}
