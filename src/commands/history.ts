import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {ago, humanSize} from '../cli/table.js'
import * as images from '../engine/image-admin.js'
import type {HistoryItem} from '../engine/image-admin.js'
import {formatOutput, type ListingFormat} from '../format/output.js'

const HISTORY_FORMAT: ListingFormat = {
  defaultTable: '{{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}',
  headers: {ID: 'IMAGE', CreatedSince: 'CREATED', CreatedAt: 'CREATED AT', CreatedBy: 'CREATED BY', Size: 'SIZE', Comment: 'COMMENT'},
}

/** docker's formatter.historyContext: what `--format` sees. */
class HistoryRow {
  constructor(
    private readonly item: HistoryItem,
    private readonly trunc: boolean,
    private readonly human: boolean,
  ) {}
  get ID(): string {
    return this.trunc && this.item.Id.startsWith('sha256:') ? this.item.Id.slice(7, 19) : this.item.Id
  }
  get CreatedSince(): string {
    return this.human ? ago(this.item.Created) : this.CreatedAt
  }
  get CreatedAt(): string {
    return this.item.Created ? new Date(this.item.Created).toISOString().replace(/\.000Z$/, 'Z') : ''
  }
  get CreatedBy(): string {
    const text = this.item.CreatedBy.replaceAll('\t', ' ')
    return this.trunc && [...text].length > 45 ? `${[...text].slice(0, 44).join('')}…` : text
  }
  get Size(): string {
    return this.human ? humanSize(this.item.Size) : String(this.item.Size)
  }
  get Comment(): string {
    return this.item.Comment
  }
  toJSON() {
    return {Comment: this.Comment, CreatedAt: this.CreatedAt, CreatedBy: this.CreatedBy, CreatedSince: this.CreatedSince, ID: this.ID, Size: this.Size}
  }
}

export default class History extends CtrCommand {
  static override description = 'Show the history (build steps and their layers) of an image'
  static override aliases = ['image:history']
  static override examples = [
    '<%= config.bin %> history busybox',
    '<%= config.bin %> history --no-trunc -H=false busybox',
    "<%= config.bin %> history --format '{{.ID}} {{.CreatedBy}}' busybox",
  ]
  static override args = {image: Args.string({required: true, description: 'image name or id'})}
  static override flags = {
    human: Flags.boolean({char: 'H', description: 'print sizes and dates in human readable format', default: true, allowNo: true}),
    'no-trunc': Flags.boolean({description: "don't truncate output"}),
    quiet: Flags.boolean({char: 'q', description: 'only show image ids'}),
    format: Flags.string({description: 'table, json, or a Go template'}),
  }

  async run(): Promise<void> {
    // docker's -H=false / --human=false: oclif spells a false boolean --no-human
    this.argv = this.argv.map((a) => (/^(-H|--human)=(false|0)$/.test(a) ? '--no-human' : /^(-H|--human)=(true|1)$/.test(a) ? '--human' : a))
    const {args, flags} = await this.parse(History)
    const ctx = await this.context(flags.config)
    const rows = (await images.history(ctx, args.image)).map((i) => new HistoryRow(i, !flags['no-trunc'], flags.human))
    process.stdout.write(formatOutput(flags.quiet ? '{{.ID}}' : flags.format, rows, HISTORY_FORMAT))
  }
}
