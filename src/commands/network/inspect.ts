import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkInspect} from '../../engine/networks.js'
import {describeError, NotFoundError} from '../../errors.js'
import {formatInspect} from '../../format/output.js'

export default class NetworkInspect extends CtrCommand {
  static override description = 'Show details of networks as a JSON array'
  static override strict = false
  static override examples = ['<%= config.bin %> network inspect backend', '<%= config.bin %> network inspect -f "{{.IPAM.Config}}" backend']
  static override args = {network: Args.string({description: 'network name or id', required: true})}
  static override flags = {format: Flags.string({char: 'f', description: 'json (default) or a Go template'})}

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(NetworkInspect)
    const ctx = await this.context(flags.config)
    const found: unknown[] = []
    const errors: unknown[] = []
    for (const name of argv as string[]) {
      try {
        found.push(await networkInspect(ctx, name))
      } catch (err) {
        errors.push(err)
      }
    }
    process.stdout.write(formatInspect(flags.format, found))
    if (errors.length > 0) {
      for (const err of errors.slice(0, -1)) process.stderr.write(`ctr-ts: ${describeError(err).message}\n`)
      throw errors.at(-1) ?? new NotFoundError('no such network')
    }
  }
}
