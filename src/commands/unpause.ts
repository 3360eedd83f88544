import {CtrCommand} from '../base-command.js'
import * as admin from '../engine/container-admin.js'

export default class Unpause extends CtrCommand {
  static override description = 'Unpause all processes within paused containers'
  static override aliases = ['container:unpause']
  static override examples = ['<%= config.bin %> unpause web']
  static override strict = false

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Unpause)
    if (argv.length === 0) this.error('unpause needs at least one container', {exit: 1})
    const ctx = await this.context(flags.config)
    for (const name of argv as string[]) {
      await admin.setPaused(ctx, name, false)
      this.log(name)
    }
  }
}
