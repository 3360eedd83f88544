import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {ago, humanDuration, renderTable} from '../cli/table.js'
import * as containers from '../engine/containers.js'
import type {ContainerStatus, PortMapping} from '../engine/containers.js'

export function statusText(s: ContainerStatus): string {
  if (s.running) return `Up ${humanDuration(Date.now() - Date.parse(s.startedAt ?? new Date().toISOString()))}`
  if (s.status === 'exited') return `Exited (${s.exit?.exitCode ?? 0}) ${ago(s.exit?.finishedAt)}`
  return 'Created'
}

export function portsText(ports: PortMapping[]): string {
  return ports.map((p) => `${p.hostIp}:${p.hostPort}->${p.containerPort}/${p.protocol}`).join(', ')
}

export default class Ps extends CtrCommand {
  static override description = 'List containers (running ones, or all with -a)'
  static override aliases = ['container:ls', 'container:list', 'container:ps']
  static override examples = ['<%= config.bin %> ps', '<%= config.bin %> ps -a --format json']
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'show all containers, not only running ones'}),
    quiet: Flags.boolean({char: 'q', description: 'only print container ids'}),
    'no-trunc': Flags.boolean({description: 'do not truncate ids and commands'}),
    format: Flags.string({description: 'output format: table or json', options: ['table', 'json'], default: 'table'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Ps)
    const ctx = await this.context(flags.config)
    const rows = (await containers.list(ctx, {all: flags.all})).map(({record, status, ports}) => ({rec: record, status, ports}))
    const id = (full: string) => (flags['no-trunc'] ? full : full.slice(0, 12))
    if (flags.quiet) {
      for (const {rec} of rows) this.log(id(rec.id))
      return
    }
    if (flags.format === 'json') {
      const out = rows.map(({rec, status, ports}) => ({
        Id: rec.id,
        Names: [rec.name],
        Image: rec.imageRef,
        ImageID: rec.image,
        Command: rec.args,
        Created: rec.created,
        State: status.status,
        Status: statusText(status),
        ExitCode: status.exit?.exitCode ?? null,
        Pid: status.running ? status.containerPid : 0,
        Ports: ports,
        Labels: rec.labels,
      }))
      this.log(JSON.stringify(out, null, 2))
      return
    }
    const cmd = (args: string[]) => {
      const s = args.join(' ')
      return flags['no-trunc'] || s.length <= 20 ? `"${s}"` : `"${s.slice(0, 19)}…"`
    }
    this.log(
      renderTable(
        ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'],
        rows.map(({rec, status, ports}) => [id(rec.id), rec.imageRef, cmd(rec.args), ago(rec.created), statusText(status), portsText(ports), rec.name]),
      ),
    )
  }
}
