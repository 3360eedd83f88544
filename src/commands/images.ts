import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {UsageError} from '../errors.js'
import {ago, humanSize, renderTable} from '../cli/table.js'
import {listImages} from '../engine/images.js'

export default class Images extends CtrCommand {
  static override description = 'List images'
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images -q', '<%= config.bin %> images --format json']
  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'only image ids'}),
    format: Flags.string({description: 'output format: table (default) or json (an array of objects)'}),
    'no-trunc': Flags.boolean({description: 'full image ids'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Images)
    const ctx = await this.context(flags.config)
    const rows = await listImages(ctx)
    const id = (full: string) => (flags['no-trunc'] ? full : full.replace(/^sha256:/, '').slice(0, 12))
    if (flags.quiet) {
      for (const i of [...new Set(rows.map((r) => id(r.Id)))]) this.log(i)
      return
    }
    if (flags.format === 'json') {
      this.log(JSON.stringify(rows, null, 2))
      return
    }
    if (flags.format && flags.format !== 'table') throw new UsageError(`unknown format ${JSON.stringify(flags.format)}: use table or json`)
    this.log(
      renderTable(
        ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'],
        rows.map((r) => [r.Repository, r.Tag, id(r.Id), ago(r.Created), humanSize(r.Size)]),
      ),
    )
  }
}
