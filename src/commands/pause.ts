import {CtrCommand} from '../base-command.js'
import * as admin from '../engine/container-admin.js'

export default class Pause extends CtrCommand {
  static override description = 'Pause all processes within containers (cgroup v2 freezer, delegated to the user)'
  static override aliases = ['container:pause']
  static override examples = ['<%= config.bin %> pause web']
  static override strict = false

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Pause)
    if (argv.length === 0) this.error('pause needs at least one container', {exit: 1})
    const ctx = await this.context(flags.config)
    for (const name of argv as string[]) {
      await admin.setPaused(ctx, name, true)
      this.log(name)
    }
  }
}
