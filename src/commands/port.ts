import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'
import {formatOutput, type ListingFormat} from '../format/output.js'

/** One published port for `port --format`: `{{.ContainerPort}}`, `{{.HostIp}}`, `{{.HostPort}}`. */
class PortRow {
  constructor(
    readonly ContainerPort: string,
    readonly HostIp: string,
    readonly HostPort: string,
  ) {}
}

const PORT_FORMAT: ListingFormat = {
  defaultTable: '{{.ContainerPort}}\t{{.HostIp}}\t{{.HostPort}}',
  headers: {ContainerPort: 'CONTAINER PORT', HostIp: 'HOST IP', HostPort: 'HOST PORT'},
}

export default class Port extends CtrCommand {
  static override description = "List a container's published ports (host ports actually bound while it runs)"
  static override aliases = ['container:port']
  static override examples = [
    '<%= config.bin %> port web',
    '<%= config.bin %> port web 80/tcp',
    "<%= config.bin %> port web --format '{{.HostPort}}'",
  ]
  static override args = {
    container: Args.string({ignoreStdin: true, description: 'container name or id', required: true}),
    port: Args.string({ignoreStdin: true, description: 'only this container port: PORT[/PROTO]'}),
  }
  static override flags = {
    format: Flags.string({description: "table, json (one object per line) or a Go template on ContainerPort, HostIp, HostPort; default: docker's `80/tcp -> 0.0.0.0:8080` lines"}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(Port)
    const ctx = await this.context(flags.config)
    const ports = await containers.ports(ctx, args.container)
    const [onlyPort, onlyProto] = (args.port ?? '').split('/')
    const selected = ports.filter((p) => !onlyPort || (String(p.containerPort) === onlyPort && (!onlyProto || onlyProto === p.protocol)))
    if (flags.format !== undefined) {
      const rows = selected.map((p) => new PortRow(`${p.containerPort}/${p.protocol}`, p.hostIp, p.hostPort === 0 ? '' : String(p.hostPort)))
      process.stdout.write(formatOutput(flags.format, rows, PORT_FORMAT))
      return
    }
    for (const p of selected) {
      const host = `${p.hostIp}:${p.hostPort === 0 ? '(any)' : p.hostPort}`
      this.log(args.port ? host : `${p.containerPort}/${p.protocol} -> ${host}`)
    }
  }
}
