import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkCreate} from '../../engine/networks.js'

export default class NetworkCreate extends CtrCommand {
  static override description = 'Create a user-defined network (a bridge in the rootless network namespace, with DNS for container names)'
  static override examples = [
    '<%= config.bin %> network create backend',
    '<%= config.bin %> network create --subnet 10.90.0.0/24 --gateway 10.90.0.1 backend',
    '<%= config.bin %> network create --internal isolated',
  ]
  static override args = {name: Args.string({description: 'network name', required: true})}
  static override flags = {
    driver: Flags.string({char: 'd', description: 'driver (bridge, the only one)', default: 'bridge'}),
    subnet: Flags.string({description: 'IPv4 subnet in CIDR form (default: the next free 10.89.N.0/24)'}),
    gateway: Flags.string({description: 'gateway address in the subnet (default: its first host address)'}),
    internal: Flags.boolean({description: 'no route to the outside'}),
    label: Flags.string({description: 'set a label KEY=VALUE', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(NetworkCreate)
    const ctx = await this.context(flags.config)
    const net = await networkCreate(ctx, {name: args.name, subnet: flags.subnet, gateway: flags.gateway, internal: flags.internal, labels: flags.label ?? [], driver: flags.driver})
    this.log(net.id)
  }
}
