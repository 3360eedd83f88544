import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlagsLongFile, loadComposeProject, useColour} from '../../cli/compose.js'
import {multiplexLogs, shortName} from '../../compose/project/logs.js'
import {serviceOrder} from '../../compose/project/order.js'
import {projectContainers} from '../../compose/project/state.js'
import {UsageError} from '../../errors.js'
import {parseDockerTime} from '../../cli/docker-time.js'

export default class ComposeLogs extends CtrCommand {
  static override description = "The output of a compose project's containers, each line prefixed with its container (service-N | )"
  static override examples = ['<%= config.bin %> compose logs', '<%= config.bin %> compose logs -f --tail 10 web', '<%= config.bin %> compose logs -t --no-log-prefix db']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services'})}
  static override flags = {
    ...composeFlagsLongFile,
    follow: Flags.boolean({char: 'f', description: 'follow the output'}),
    tail: Flags.string({char: 'n', description: 'number of lines from the end of each log (or all)', default: 'all'}),
    timestamps: Flags.boolean({char: 't', description: 'show timestamps'}),
    'no-color': Flags.boolean({description: 'no colours'}),
    'no-log-prefix': Flags.boolean({description: 'no prefix on the lines'}),
    since: Flags.string({description: 'only output since this time (10m, Unix seconds, RFC 3339)'}),
    until: Flags.string({description: 'only output until this time'}),
    index: Flags.integer({description: 'only the container with this number (of a service given)'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeLogs)
    const project = await loadComposeProject(flags)
    const selected = argv as string[]
    serviceOrder(project, selected, {noDeps: true})
    const tail = flags.tail === 'all' ? undefined : Number(flags.tail)
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) throw new UsageError(`invalid --tail value "${flags.tail}"`)
    const now = Date.now()
    const ctx = await this.context(flags.config)
    let list = await projectContainers(ctx, project.name, {all: true, services: selected})
    if (flags.index !== undefined) list = list.filter((c) => c.number === flags.index)
    await multiplexLogs(
      ctx,
      list.map((c) => ({id: c.id, label: shortName(project.name, c.name)})),
      {
        follow: flags.follow,
        tail,
        timestamps: flags.timestamps,
        ...(flags.since !== undefined ? {sinceMs: parseDockerTime(flags.since, now, '--since')} : {}),
        ...(flags.until !== undefined ? {untilMs: parseDockerTime(flags.until, now, '--until')} : {}),
        colour: useColour(flags['no-color']),
        noPrefix: flags['no-log-prefix'],
        out: (t) => void process.stdout.write(t),
      },
    )
  }
}
