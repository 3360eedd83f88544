import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {parseDockerTime} from '../../cli/docker-time.js'
import {parseFilterArgs} from '../../cli/filter-args.js'
import * as admin from '../../engine/container-admin.js'
import {confirm} from '../../system/prompt.js'

export default class ContainerPrune extends CtrCommand {
  static override description = 'Remove all stopped containers'
  static override examples = [
    '<%= config.bin %> container prune -f',
    '<%= config.bin %> container prune -f --filter until=24h',
    '<%= config.bin %> container prune -f --filter label=stage=ci --filter label!=keep',
  ]
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'do not prompt for confirmation'}),
    filter: Flags.string({description: 'until=TIME, label=KEY[=VALUE], label!=KEY[=VALUE]', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ContainerPrune)
    // label!=x arrives as key `label!` with value `x`
    const f = parseFilterArgs(flags.filter, ['until', 'label', 'label!'])
    const untils = f.until ?? []
    if (untils.length > 1) this.error('more than one until filter specified', {exit: 1})
    const filters: admin.PruneFilters = {
      untilMs: untils[0] !== undefined ? parseDockerTime(untils[0], Date.now(), 'until') : undefined,
      label: f.label,
      labelNot: f['label!'],
    }
    if (!flags.force && !(await confirm('WARNING! This will remove all stopped containers.\nAre you sure you want to continue? [y/N] '))) return
    const ctx = await this.context(flags.config)
    const {removed, errors} = await admin.prune(ctx, filters)
    if (removed.length > 0) this.log(`Deleted Containers:\n${removed.join('\n')}\n`)
    if (errors.length > 0) throw errors[0]
  }
}
