import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject} from '../../cli/compose.js'
import {parseScale, up} from '../../compose/project/up.js'

export default class ComposeCreate extends CtrCommand {
  static override description = "Create a compose project's networks, volumes and containers without starting them"
  static override examples = ['<%= config.bin %> compose create', '<%= config.bin %> compose create --build --force-recreate web']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all), with their dependencies'})}
  static override flags = {
    ...composeFlags,
    build: Flags.boolean({description: 'build images first'}),
    'no-build': Flags.boolean({description: 'do not build an image, even when it is missing'}),
    'force-recreate': Flags.boolean({description: 'recreate containers even if unchanged'}),
    'no-recreate': Flags.boolean({description: 'do not recreate containers that exist'}),
    'remove-orphans': Flags.boolean({description: 'remove containers of services not in the compose file'}),
    scale: Flags.string({description: 'SERVICE=NUMBER', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeCreate)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    await up(ctx, project, {
      services: argv as string[],
      noStart: true,
      build: flags.build,
      noBuild: flags['no-build'],
      forceRecreate: flags['force-recreate'],
      noRecreate: flags['no-recreate'],
      removeOrphans: flags['remove-orphans'],
      scale: parseScale(flags.scale ?? []),
      progress: composeProgress(),
      buildOutput: process.stderr,
    })
  }
}
