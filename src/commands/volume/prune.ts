import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {humanSize} from '../../cli/table.js'
import * as volumes from '../../engine/volumes.js'
import {confirmOnTerminal} from '../../system/prompt.js'

export default class VolumePrune extends CtrCommand {
  static override summary = 'Remove unused volumes'
  static override description =
    'Removes the anonymous volumes no container uses; with --all every volume no container uses (docker 23+). Asks for confirmation on a terminal; elsewhere --force is required.'
  static override examples = ['<%= config.bin %> volume prune -f', '<%= config.bin %> volume prune -a -f --filter label=tmp']
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'named volumes too, not only anonymous ones'}),
    filter: Flags.string({description: 'filter: label=KEY[=VALUE], label!=KEY[=VALUE], all=true', multiple: true, multipleNonGreedy: true}),
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(VolumePrune)
    const ctx = await this.context(flags.config)
    if (!flags.force) {
      const what = flags.all ? 'all volumes not used by at least one container' : 'all anonymous volumes not used by at least one container'
      if (!(await confirmOnTerminal('volume prune', `WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) return
    }
    const r = await volumes.prune(ctx, {all: flags.all, filters: flags.filter ?? []})
    if (r.removed.length > 0) this.log(['Deleted Volumes:', ...r.removed, ''].join('\n'))
    this.log(`Total reclaimed space: ${humanSize(r.bytes)}`)
  }
}
