import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Stop extends CtrCommand {
  static override description = "Stop containers: the image's stop signal (SIGTERM by default), then SIGKILL after the timeout"
  static override aliases = ['container:stop']
  static override examples = ['<%= config.bin %> stop web', '<%= config.bin %> stop -t 2 web worker']
  static override strict = false
  static override flags = {
    time: Flags.integer({char: 't', description: "seconds to wait before SIGKILL (default: the container's --stop-timeout, else 10; -1 waits forever)", aliases: ['timeout']}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Stop)
    if (argv.length === 0) this.error('stop needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    for (const name of argv as string[]) {
      await containers.stop(ctx, name, flags.time)
      this.log(name)
    }
  }
}
