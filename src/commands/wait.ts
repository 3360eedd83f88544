import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Wait extends CtrCommand {
  static override aliases = ['container:wait']
  static override description = [
    'Wait for containers to exit and print their exit codes.',
    'With --condition: not-running (the default), next-exit (a stopped container is waited for to start, then to exit),',
    'removed (exit, then removal), or healthy / unhealthy (that health status; prints -1 as podman does).',
  ].join('\n')
  static override examples = ['<%= config.bin %> wait job', '<%= config.bin %> wait --condition healthy db', '<%= config.bin %> wait --condition removed job']
  static override strict = false
  static override flags = {
    condition: Flags.string({description: 'condition to wait for', options: [...containers.WAIT_CONDITIONS]}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Wait)
    if (argv.length === 0) this.error('wait needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    for (const name of argv as string[]) {
      this.log(String(await containers.wait(ctx, name, flags.condition)))
    }
  }
}
