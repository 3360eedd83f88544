import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject, timeoutFlag, useColour} from '../../cli/compose.js'
import {attachToProject} from '../../compose/project/attach.js'
import {serviceOrder} from '../../compose/project/order.js'
import {parseScale, up} from '../../compose/project/up.js'
import {UsageError} from '../../errors.js'

export default class ComposeUp extends CtrCommand {
  static override description = 'Create and start the containers of a compose project (networks and volumes first, services in dependency order)'
  static override examples = [
    '<%= config.bin %> compose up -d',
    '<%= config.bin %> compose up --build --wait',
    '<%= config.bin %> compose -f compose.yaml up -d --scale worker=3 web worker',
    '<%= config.bin %> compose up --build --exit-code-from tests',
  ]
  static override strict = false
  static override args = {services: Args.string({description: 'services to start (default: all), with their dependencies'})}
  static override flags = {
    ...composeFlags,
    detach: Flags.boolean({char: 'd', description: 'run the containers in the background'}),
    build: Flags.boolean({description: 'build images before starting containers'}),
    'no-build': Flags.boolean({description: 'do not build an image, even when it is missing'}),
    'force-recreate': Flags.boolean({description: 'recreate containers even if their configuration and image have not changed'}),
    'no-recreate': Flags.boolean({description: 'do not recreate containers that exist'}),
    'no-deps': Flags.boolean({description: 'do not start the services the named ones depend on'}),
    'no-start': Flags.boolean({description: 'create the containers, do not start them'}),
    'remove-orphans': Flags.boolean({description: 'remove containers of services not in the compose file'}),
    wait: Flags.boolean({description: 'wait for the services to be running (healthy when they have a healthcheck); implies -d'}),
    'wait-timeout': Flags.integer({description: 'seconds --wait waits at most'}),
    scale: Flags.string({description: 'SERVICE=NUMBER: the number of containers of a service (overrides scale in the file)', multiple: true, multipleNonGreedy: true}),
    timeout: timeoutFlag,
    'no-color': Flags.boolean({description: 'no colours in the log prefixes'}),
    'no-log-prefix': Flags.boolean({description: 'no `service-N |` prefix on log lines'}),
    'quiet-pull': Flags.boolean({description: 'no progress while pulling'}),
    'abort-on-container-exit': Flags.boolean({description: 'stop all containers when one exits (attached only)'}),
    'exit-code-from': Flags.string({description: "exit with this service's container's exit code (implies --abort-on-container-exit)"}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeUp)
    const services = argv as string[]
    if ((flags['abort-on-container-exit'] || flags['exit-code-from']) && (flags.detach || flags.wait)) throw new UsageError('--abort-on-container-exit and --exit-code-from cannot be combined with --detach or --wait')
    const project = await loadComposeProject(flags)
    if (flags['exit-code-from']) serviceOrder(project, [flags['exit-code-from']], {noDeps: true})
    const ctx = await this.context(flags.config)
    const progress = composeProgress()
    const since = Date.now()
    const list = await up(ctx, project, {
      services,
      build: flags.build,
      noBuild: flags['no-build'],
      forceRecreate: flags['force-recreate'],
      noRecreate: flags['no-recreate'],
      noDeps: flags['no-deps'],
      noStart: flags['no-start'],
      removeOrphans: flags['remove-orphans'],
      wait: flags.wait,
      waitTimeoutSec: flags['wait-timeout'],
      scale: parseScale(flags.scale ?? []),
      timeoutSec: flags.timeout,
      progress,
      buildOutput: process.stderr,
    })
    if (flags.detach || flags.wait || flags['no-start']) return
    const code = await attachToProject(ctx, project, list, {
      sinceMs: since,
      colour: useColour(flags['no-color']),
      noPrefix: flags['no-log-prefix'],
      timeoutSec: flags.timeout,
      progress,
      abortOnExit: flags['abort-on-container-exit'],
      ...(flags['exit-code-from'] ? {exitCodeFrom: flags['exit-code-from']} : {}),
    })
    if (code !== 0) process.exitCode = code
  }
}
