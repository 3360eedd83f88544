import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkPrune} from '../../engine/networks.js'
import {matchNetwork, parseNetworkFilters} from '../../network/filters.js'
import {confirm} from '../../system/prompt.js'

export default class NetworkPrune extends CtrCommand {
  static override description = 'Remove every user-defined network no container is on'
  static override examples = ['<%= config.bin %> network prune -f', '<%= config.bin %> network prune -f --filter label=env=ci']
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation'}),
    filter: Flags.string({description: 'label=KEY[=VALUE], name=, id=', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NetworkPrune)
    const filters = parseNetworkFilters(flags.filter ?? [])
    if (!flags.force && !(await confirm('WARNING! This will remove all custom networks not used by at least one container.\nAre you sure you want to continue?'))) {
      process.stderr.write('Aborted.\n')
      return
    }
    const ctx = await this.context(flags.config)
    const removed = await networkPrune(ctx, (net) => !matchNetwork(net, filters))
    if (removed.length > 0) {
      this.log('Deleted Networks:')
      for (const n of removed) this.log(n)
    }
  }
}
