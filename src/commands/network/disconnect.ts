import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkDisconnect} from '../../engine/networks.js'

export default class NetworkDisconnect extends CtrCommand {
  static override description = 'Disconnect a container (running or not) from a user-defined network'
  static override examples = ['<%= config.bin %> network disconnect backend mydb']
  static override args = {
    network: Args.string({description: 'network name or id', required: true}),
    container: Args.string({description: 'container name or id', required: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NetworkDisconnect)
    const ctx = await this.context(flags.config)
    await networkDisconnect(ctx, {network: args.network, container: args.container})
  }
}
