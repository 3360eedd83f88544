import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject} from '../../cli/compose.js'
import {buildService} from '../../compose/project/images.js'
import {serviceOrder} from '../../compose/project/order.js'
import {UsageError} from '../../errors.js'

export default class ComposeBuild extends CtrCommand {
  static override description = 'Build the images of the services that have a build: section (tagged image:, else PROJECT-SERVICE)'
  static override examples = ['<%= config.bin %> compose build', '<%= config.bin %> compose build --no-cache --build-arg VERSION=2 api']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,
    'no-cache': Flags.boolean({description: 'do not use the build cache'}),
    pull: Flags.boolean({description: 'always pull the base images'}),
    quiet: Flags.boolean({char: 'q', description: 'no build output'}),
    'build-arg': Flags.string({description: 'KEY=VALUE over the build args of the file', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeBuild)
    const project = await loadComposeProject(flags)
    const extra: Record<string, string> = {}
    for (const a of flags['build-arg'] ?? []) {
      const eq = a.indexOf('=')
      if (eq <= 0) throw new UsageError(`--build-arg ${JSON.stringify(a)}: needs KEY=VALUE`)
      extra[a.slice(0, eq)] = a.slice(eq + 1)
    }
    const ctx = await this.context(flags.config)
    const progress = composeProgress(flags.quiet)
    for (const name of serviceOrder(project, argv as string[], {noDeps: true})) {
      const svc = project.services[name]!
      if (!svc.build) continue
      const withArgs = {...svc, build: {...svc.build, args: {...svc.build.args, ...extra}}}
      await buildService(ctx, project, withArgs, {progress, noCache: flags['no-cache'], pull: flags.pull, ...(flags.quiet ? {} : {output: process.stderr})})
    }
  }
}
