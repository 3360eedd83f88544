import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {parsePruneFilters} from '../../format/filters.js'
import {humanSize} from '../../cli/table.js'
import {pruneSystem} from '../../system/prune.js'
import {confirmOnTerminal} from '../../system/prompt.js'

export default class SystemPrune extends CtrCommand {
  static override summary = 'Remove stopped containers and unused data'
  static override description = [
    'Removes every container that is not running, then blobs and unpacked layers no image or container uses.',
    'With --all, also every image no remaining container uses. Running containers and their images are left alone.',
    'Asks for confirmation on a terminal; elsewhere --force is required.',
  ].join('\n')
  static override examples = ['<%= config.bin %> system prune', '<%= config.bin %> system prune -a -f', '<%= config.bin %> system prune -f --filter until=1h --filter label=ci']
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'also remove all images not used by a container'}),
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation'}),
    filter: Flags.string({description: 'only what matches: until=TIMESTAMP|DURATION, label=KEY[=VALUE], label!=KEY[=VALUE]', multiple: true, multipleNonGreedy: true}),
    volumes: Flags.boolean({description: 'also remove anonymous volumes no container uses'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SystemPrune)
    parsePruneFilters(flags.filter) // a bad filter fails before anything is asked or removed
    const ctx = await this.context(flags.config)
    if (!flags.force) {
      const base = flags.all ? 'all stopped containers, all images without a container, and unused layers and blobs' : 'all stopped containers and unused layers and blobs'
      const what = flags.volumes ? `${base}, and all anonymous volumes not used by a container` : base
      if (!(await confirmOnTerminal('system prune', `WARNING! This will remove ${what}. Are you sure you want to continue?`))) {
        this.log('Nothing removed.')
        return
      }
    }
    const r = await pruneSystem(ctx, {all: flags.all, filters: flags.filter, volumes: flags.volumes})
    if (r.containers.length) this.log(['Deleted Containers:', ...r.containers].join('\n'))
    if (r.untagged.length || r.deletedImages.length) {
      this.log(['Deleted Images:', ...r.untagged.map((u) => `untagged: ${u}`), ...r.deletedImages.map((d) => `deleted: ${d}`)].join('\n'))
    }
    if (r.volumes.length) this.log(['Deleted Volumes:', ...r.volumes].join('\n'))
    if (r.layers.length) this.log(['Deleted Layers:', ...r.layers].join('\n'))
    this.log(`Total reclaimed space: ${humanSize(r.blobBytes)}`)
  }
}
