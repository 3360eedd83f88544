import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, loadComposeProject} from '../../cli/compose.js'
import {COMPOSE_PS_FORMAT, ComposePsRow} from '../../cli/compose-rows.js'
import {serviceImage} from '../../compose/project/labels.js'
import {serviceOrder} from '../../compose/project/order.js'
import type {ComposeProject} from '../../compose/model/types.js'
import {projectContainers} from '../../compose/project/state.js'
import {formatOutput} from '../../format/output.js'

export default class ComposePs extends CtrCommand {
  static override description = 'List the containers of a compose project'
  static override examples = ['<%= config.bin %> compose ps', '<%= config.bin %> compose ps -a --format json', '<%= config.bin %> compose ps --services', '<%= config.bin %> compose ps -q web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services'})}
  static override flags = {
    ...composeFlags,
    all: Flags.boolean({char: 'a', description: 'stopped containers too'}),
    quiet: Flags.boolean({char: 'q', description: 'only the container ids'}),
    services: Flags.boolean({description: 'only the service names'}),
    format: Flags.string({description: "table, json (one object per line), 'table TEMPLATE' or a Go template"}),
    'no-trunc': Flags.boolean({description: 'do not truncate the output'}),
    status: Flags.string({description: 'only containers in this state (running, exited, created, paused, restarting)', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposePs)
    const project = await loadComposeProject(flags)
    const selected = argv as string[]
    serviceOrder(project, selected, {noDeps: true}) // unknown services are an error
    const ctx = await this.context(flags.config)
    let list = await projectContainers(ctx, project.name, {all: flags.all || flags.status !== undefined, services: selected})
    if (flags.status) list = list.filter((c) => flags.status!.includes(c.summary.status.restarting ? 'restarting' : c.summary.status.status))
    if (flags.services) {
      for (const s of [...new Set(list.map((c) => c.service))]) this.log(s)
      return
    }
    if (flags.quiet) {
      for (const c of list) this.log(flags['no-trunc'] ? c.id : c.id.slice(0, 12))
      return
    }
    process.stdout.write(formatOutput(flags.format, list.map((c) => new ComposePsRow(project.name, c, !flags['no-trunc'], serviceImageName(project, c.service))), COMPOSE_PS_FORMAT))
  }
}

function serviceImageName(project: ComposeProject, service: string): string | undefined {
  const svc = project.services[service]
  return svc ? serviceImage(project, svc) : undefined
}
