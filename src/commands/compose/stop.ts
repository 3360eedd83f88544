import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject, timeoutFlag} from '../../cli/compose.js'
import {stopServices} from '../../compose/project/lifecycle.js'

export default class ComposeStop extends CtrCommand {
  static override description = 'Stop the running containers of a compose project (dependents first)'
  static override examples = ['<%= config.bin %> compose stop', '<%= config.bin %> compose stop web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeStop)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    await stopServices(ctx, project, argv as string[], flags.timeout, composeProgress())
  }
}
