import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkRemove} from '../../engine/networks.js'
import {describeError} from '../../errors.js'

export default class NetworkRm extends CtrCommand {
  static override description = 'Remove networks (refused while a container is on one)'
  static override aliases = ['network:remove']
  static override strict = false
  static override examples = ['<%= config.bin %> network rm backend']
  static override args = {network: Args.string({description: 'network name or id', required: true})}

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(NetworkRm)
    const ctx = await this.context(flags.config)
    let last: unknown
    for (const name of argv as string[]) {
      try {
        await networkRemove(ctx, name)
        this.log(name)
      } catch (err) {
        if (last !== undefined) process.stderr.write(`ctr-ts: ${describeError(last).message}\n`)
        last = err
      }
    }
    if (last !== undefined) throw last
  }
}
