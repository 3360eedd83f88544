import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import * as volumes from '../../engine/volumes.js'
import {formatInspect} from '../../format/output.js'

export default class VolumeInspect extends CtrCommand {
  static override summary = 'Show volumes as JSON (docker volume inspect)'
  static override examples = ['<%= config.bin %> volume inspect pgdata', "<%= config.bin %> volume inspect -f '{{.Mountpoint}}' pgdata"]
  static override strict = false
  static override flags = {
    format: Flags.string({char: 'f', description: 'json (default) or a Go template'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(VolumeInspect)
    if (argv.length === 0) this.error('volume inspect needs at least one volume', {exit: 1})
    const ctx = await this.context(flags.config)
    const out: volumes.VolumeInspect[] = []
    let failed: unknown
    for (const name of argv as string[]) {
      try {
        out.push(await volumes.inspect(ctx, name))
      } catch (err) {
        failed = err
      }
    }
    // like docker: what was found is printed, then the first error
    if (out.length > 0 || !failed) process.stdout.write(formatInspect(flags.format, out))
    if (failed) throw failed
  }
}
