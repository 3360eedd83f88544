import {Args, Flags} from '@oclif/core'
import {createWriteStream} from 'node:fs'
import {rename, unlink} from 'node:fs/promises'
import {CtrCommand} from '../base-command.js'
import {exportContainer} from '../engine/containers.js'
import {UsageError} from '../errors.js'

export default class Export extends CtrCommand {
  static override description = "Export a container's filesystem as a tar archive (to STDOUT by default)"
  static override examples = ['<%= config.bin %> export web > web.tar', '<%= config.bin %> export -o web.tar web']
  static override args = {
    container: Args.string({ignoreStdin: true, description: 'container name or id', required: true}),
  }
  static override flags = {
    output: Flags.string({char: 'o', description: 'write to a file instead of STDOUT'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Export)
    if (!flags.output && process.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect')
    const ctx = await this.context(flags.config)
    if (!flags.output) {
      await exportContainer(ctx, args.container, process.stdout)
      return
    }
    const tmp = `${flags.output}.tmp-${process.pid}`
    try {
      await exportContainer(ctx, args.container, createWriteStream(tmp, {mode: 0o644}))
      await rename(tmp, flags.output)
    } catch (err) {
      await unlink(tmp).catch(() => {})
      throw err
    }
  }
}
