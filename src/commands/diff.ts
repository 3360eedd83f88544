import {Args} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as admin from '../engine/container-admin.js'

export default class Diff extends CtrCommand {
  static override description = "Show the changes to files in a container's filesystem (A added, C changed, D deleted)"
  static override aliases = ['container:diff']
  static override examples = ['<%= config.bin %> diff web']
  static override args = {container: Args.string({required: true, description: 'container name or id'})}

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Diff)
    const ctx = await this.context(flags.config)
    const changes = await admin.diff(ctx, args.container)
    process.stdout.write(changes.map((c) => `${c.Kind} ${c.Path}\n`).join(''))
  }
}
