import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject} from '../../cli/compose.js'
import {killServices} from '../../compose/project/lifecycle.js'

export default class ComposeKill extends CtrCommand {
  static override description = 'Send a signal (default SIGKILL) to the running containers of a compose project'
  static override examples = ['<%= config.bin %> compose kill', '<%= config.bin %> compose kill web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,
    signal: Flags.string({char: 's', description: 'the signal', default: 'SIGKILL'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeKill)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    await killServices(ctx, project, argv as string[], flags.signal, composeProgress())
  }
}
