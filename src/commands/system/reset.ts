import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {confirmOnTerminal} from '../../system/prompt.js'
import {resetSystem} from '../../system/prune.js'

export default class SystemReset extends CtrCommand {
  static override summary = 'Remove every container and the whole store'
  static override description = [
    'Kills and removes every container, then removes all images, layers and blobs and the runtime state: ctr-ts is as freshly installed.',
    'The configuration and the registry credentials are kept. Asks for confirmation on a terminal; elsewhere --force is required.',
  ].join('\n')
  static override examples = ['<%= config.bin %> system reset', '<%= config.bin %> system reset -f']
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SystemReset)
    const ctx = await this.context(flags.config)
    if (!flags.force) {
      if (!(await confirmOnTerminal('system reset', `WARNING! This will kill and remove every container and delete every image in ${ctx.store.root}. Are you sure?`))) {
        this.log('Nothing removed.')
        return
      }
    }
    const r = await resetSystem(ctx)
    this.log(`Removed ${r.containers.length} container(s) and the store at ${ctx.store.root}`)
  }
}
