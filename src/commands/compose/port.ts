import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, loadComposeProject} from '../../cli/compose.js'
import {serviceContainer} from '../../compose/project/select.js'
import * as containers from '../../engine/containers.js'
import {ComposeRunError, UsageError} from '../../errors.js'

export default class ComposePort extends CtrCommand {
  static override description = "The host address a service's container port is published on"
  static override examples = ['<%= config.bin %> compose port web 80', '<%= config.bin %> compose port --protocol udp --index 2 dns 53']
  static override args = {
    service: Args.string({description: 'the service', required: true}),
    port: Args.string({description: 'the container port', required: true}),
  }
  static override flags = {
    ...composeFlags,
    protocol: Flags.string({description: 'tcp or udp', default: 'tcp', options: ['tcp', 'udp', 'sctp']}),
    index: Flags.integer({description: 'the container of the service with this number', default: 1}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(ComposePort)
    const port = Number(args.port)
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError(`invalid port "${args.port}"`)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    const c = await serviceContainer(ctx, project, args.service, {index: flags.index})
    const found = (await containers.ports(ctx, c.id)).find((p) => p.containerPort === port && p.protocol === flags.protocol)
    if (!found) throw new ComposeRunError(`no port ${port}/${flags.protocol} published for service "${args.service}"`)
    this.log(`${found.hostIp}:${found.hostPort}`)
  }
}
