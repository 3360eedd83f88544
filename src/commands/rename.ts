import {Args} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as admin from '../engine/container-admin.js'

export default class Rename extends CtrCommand {
  static override description = 'Rename a container'
  static override aliases = ['container:rename']
  static override examples = ['<%= config.bin %> rename web web-old']
  static override args = {
    container: Args.string({required: true, description: 'container name or id'}),
    name: Args.string({required: true, description: 'new name'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Rename)
    const ctx = await this.context(flags.config)
    await admin.rename(ctx, args.container, args.name)
  }
}
