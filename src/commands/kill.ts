import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Kill extends CtrCommand {
  static override description = 'Send a signal (SIGKILL by default) to running containers'
  static override aliases = ['container:kill']
  static override examples = ['<%= config.bin %> kill web', '<%= config.bin %> kill -s HUP web']
  static override strict = false
  static override flags = {
    signal: Flags.string({char: 's', description: 'signal name or number', default: 'SIGKILL'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Kill)
    if (argv.length === 0) this.error('kill needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    for (const name of argv as string[]) {
      await containers.kill(ctx, name, flags.signal)
      this.log(name)
    }
  }
}
