import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject} from '../../cli/compose.js'
import {startServices} from '../../compose/project/lifecycle.js'

export default class ComposeStart extends CtrCommand {
  static override description = 'Start the existing containers of a compose project (dependencies first)'
  static override examples = ['<%= config.bin %> compose start', '<%= config.bin %> compose start web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,

  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeStart)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    await startServices(ctx, project, argv as string[], composeProgress())
  }
}
