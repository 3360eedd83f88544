import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Inspect extends CtrCommand {
  static override description = 'Show low-level information on containers as JSON'
  static override examples = ['<%= config.bin %> inspect web']
  static override strict = false

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Inspect)
    if (argv.length === 0) this.error('inspect needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    const out = []
    for (const name of argv as string[]) {
      out.push(await containers.inspect(ctx, name))
    }
    this.log(JSON.stringify(out, null, 2))
  }
}
