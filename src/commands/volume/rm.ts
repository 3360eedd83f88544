import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import * as volumes from '../../engine/volumes.js'
import {NotFoundError} from '../../errors.js'

export default class VolumeRm extends CtrCommand {
  static override summary = 'Remove volumes'
  static override description =
    'Removes volumes and their content. A volume a container uses (running or stopped) is refused, with or without --force, as docker does: remove the container first.'
  static override aliases = ['volume:remove']
  static override examples = ['<%= config.bin %> volume rm pgdata', '<%= config.bin %> volume rm -f maybe-there']
  static override strict = false
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'no error for volumes that do not exist'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(VolumeRm)
    if (argv.length === 0) this.error('volume rm needs at least one volume', {exit: 1})
    const ctx = await this.context(flags.config)
    let failed = false
    for (const name of argv as string[]) {
      try {
        await volumes.remove(ctx, name)
        this.log(name)
      } catch (err) {
        if (flags.force && err instanceof NotFoundError) continue
        failed = true
        process.stderr.write(`ctr-ts: ${(err as Error).message}\n`)
      }
    }
    if (failed) process.exitCode = 1
  }
}
