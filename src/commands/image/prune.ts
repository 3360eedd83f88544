import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {parsePruneFilters} from '../../format/filters.js'
import {humanSize} from '../../cli/table.js'
import {pruneImages} from '../../engine/images.js'
import {confirm} from '../../system/prompt.js'

export default class ImagePrune extends CtrCommand {
  static override description = 'Remove unused images and unreferenced content'
  static override examples = ['<%= config.bin %> image prune -f', '<%= config.bin %> image prune -a -f', "<%= config.bin %> image prune -a -f --filter until=24h --filter 'label!=keep'"]
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'remove every image no container uses, not just dangling content'}),
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation'}),
    filter: Flags.string({description: 'only what matches: until=TIMESTAMP|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE]', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ImagePrune)
    parsePruneFilters(flags.filter) // a bad filter fails before anything is asked or removed
    if (!flags.force) {
      const what = flags.all ? 'all images without at least one container associated to them' : 'all dangling images'
      if (!(await confirm(`WARNING! This will remove ${what}.\nAre you sure you want to continue?`))) {
        process.stderr.write('Aborted.\n')
        return
      }
    }
    const ctx = await this.context(flags.config)
    const {lines, gc} = await pruneImages(ctx, {all: flags.all, filters: flags.filter})
    if (lines.length > 0) {
      this.log('Deleted Images:')
      for (const l of lines) this.log(l)
      this.log('')
    }
    this.log(`Total reclaimed space: ${humanSize(gc.blobBytes)}`)
  }
}
