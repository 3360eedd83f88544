import {Args} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Port extends CtrCommand {
  static override description = "List a container's published ports (host ports actually bound while it runs)"
  static override aliases = ['container:port']
  static override examples = ['<%= config.bin %> port web', '<%= config.bin %> port web 80/tcp']
  static override args = {
    container: Args.string({ignoreStdin: true, description: 'container name or id', required: true}),
    port: Args.string({ignoreStdin: true, description: 'only this container port: PORT[/PROTO]'}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(Port)
    const ctx = await this.context(flags.config)
    const ports = await containers.ports(ctx, args.container)
    const [onlyPort, onlyProto] = (args.port ?? '').split('/')
    for (const p of ports) {
      if (onlyPort && (String(p.containerPort) !== onlyPort || (onlyProto && onlyProto !== p.protocol))) continue
      const host = `${p.hostIp}:${p.hostPort === 0 ? '(any)' : p.hostPort}`
      this.log(args.port ? host : `${p.containerPort}/${p.protocol} -> ${host}`)
    }
  }
}
