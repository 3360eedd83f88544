import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {IMAGES_DIGESTS_TABLE, IMAGES_FORMAT, ImageRow} from '../cli/image-row.js'
import {listImages} from '../engine/image-list.js'
import {formatOutput} from '../format/output.js'

export default class Images extends CtrCommand {
  static override description = 'List images'
  static override examples = [
    '<%= config.bin %> images',
    '<%= config.bin %> images -q',
    '<%= config.bin %> images --format json',
    "<%= config.bin %> images --format '{{.Repository}}:{{.Tag}} {{.ID}}'",
    "<%= config.bin %> images --filter 'reference=busy*' --filter dangling=false",
  ]
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'show all images (ctr-ts keeps no intermediate images: the same list)'}),
    quiet: Flags.boolean({char: 'q', description: 'only image ids'}),
    digests: Flags.boolean({description: 'show digests'}),
    filter: Flags.string({
      char: 'f',
      description: 'filter: dangling, label, reference, before, since (KEY=VALUE; repeat: same key OR, keys AND)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    format: Flags.string({description: "output: table, json (one object per line), 'table TEMPLATE' or a Go template"}),
    'no-trunc': Flags.boolean({description: 'full image ids'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Images)
    const ctx = await this.context(flags.config)
    const rows = (await listImages(ctx, {filters: flags.filter})).map((r) => new ImageRow(r, {trunc: !flags['no-trunc']}))
    if (flags.quiet) {
      for (const i of [...new Set(rows.map((r) => r.ID))]) this.log(i)
      return
    }
    const format = flags.digests && (flags.format === undefined || flags.format === 'table') ? `table ${IMAGES_DIGESTS_TABLE}` : flags.format
    process.stdout.write(formatOutput(format, rows, IMAGES_FORMAT))
  }
}
