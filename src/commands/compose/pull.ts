import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject} from '../../cli/compose.js'
import {pullService} from '../../compose/project/images.js'
import {serviceOrder} from '../../compose/project/order.js'

export default class ComposePull extends CtrCommand {
  static override description = "Pull the images of a compose project's services (those with an image:)"
  static override examples = ['<%= config.bin %> compose pull', '<%= config.bin %> compose pull -q db']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,
    quiet: Flags.boolean({char: 'q', description: 'no progress'}),
    'ignore-pull-failures': Flags.boolean({description: 'go on when an image cannot be pulled'}),
    'ignore-buildable': Flags.boolean({description: 'skip services that have a build: section'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposePull)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    const progress = composeProgress(flags.quiet)
    for (const name of serviceOrder(project, argv as string[], {noDeps: true})) {
      const svc = project.services[name]!
      if (!svc.image || (svc.build && flags['ignore-buildable'])) continue
      try {
        await pullService(ctx, project, svc, progress)
      } catch (err) {
        if (!flags['ignore-pull-failures'] && !svc.build) throw err
        progress.warn(`${name}: ${(err as Error).message}`)
      }
    }
  }
}
