import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, loadComposeProject} from '../../cli/compose.js'
import {renderTable} from '../../cli/table.js'
import {serviceOrder} from '../../compose/project/order.js'
import {shortName} from '../../compose/project/logs.js'
import {projectContainers} from '../../compose/project/state.js'
import * as admin from '../../engine/container-admin.js'

export default class ComposeTop extends CtrCommand {
  static override description = "The processes of a compose project's running containers"
  static override examples = ['<%= config.bin %> compose top', '<%= config.bin %> compose top web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {...composeFlags}

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeTop)
    const project = await loadComposeProject(flags)
    serviceOrder(project, argv as string[], {noDeps: true})
    const ctx = await this.context(flags.config)
    const list = (await projectContainers(ctx, project.name, {all: false, services: argv as string[]})).sort((a, b) => (a.name < b.name ? -1 : 1))
    const parts: string[] = []
    for (const c of list) {
      const {titles, processes} = await admin.top(ctx, c.id, [])
      parts.push(`${shortName(project.name, c.name)}\n${renderTable(titles, processes)}\n`)
    }
    process.stdout.write(parts.join('\n'))
  }
}
