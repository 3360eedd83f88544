import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject, timeoutFlag} from '../../cli/compose.js'
import {restartServices} from '../../compose/project/lifecycle.js'

export default class ComposeRestart extends CtrCommand {
  static override description = 'Restart the containers of a compose project'
  static override examples = ['<%= config.bin %> compose restart', '<%= config.bin %> compose restart web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,
    timeout: timeoutFlag,
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeRestart)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    await restartServices(ctx, project, argv as string[], flags.timeout, composeProgress())
  }
}
