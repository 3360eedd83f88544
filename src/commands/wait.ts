import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Wait extends CtrCommand {
  static override description = 'Wait for containers to exit and print their exit codes'
  static override aliases = ['container:wait']
  static override examples = ['<%= config.bin %> wait job']
  static override strict = false

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Wait)
    if (argv.length === 0) this.error('wait needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    for (const name of argv as string[]) {
      this.log(String(await containers.wait(ctx, name)))
    }
  }
}
