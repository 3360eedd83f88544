import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {PS_FORMAT, PS_SIZE_TABLE, PsRow} from '../cli/ps-row.js'
import * as containers from '../engine/container-list.js'
import {formatOutput} from '../format/output.js'
import {trace} from '../trace.js'

export default class Ps extends CtrCommand {
  static override description = 'List containers (running ones, or all with -a)'
  static override aliases = ['container:ls', 'container:list', 'container:ps']
  static override examples = [
    '<%= config.bin %> ps',
    '<%= config.bin %> ps -a --format json',
    "<%= config.bin %> ps -a --format 'table {{.Names}}\\t{{.Status}}\\t{{.Label \"tier\"}}'",
    '<%= config.bin %> ps -q --filter status=exited --filter label=tier=web',
    '<%= config.bin %> ps -n 2 --no-trunc',
  ]
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'show all containers, not only running ones'}),
    quiet: Flags.boolean({char: 'q', description: 'only print container ids'}),
    'no-trunc': Flags.boolean({description: 'do not truncate ids and commands'}),
    filter: Flags.string({
      char: 'f',
      description: 'filter: id, name, label, status, ancestor, exited, before, since, network, volume (KEY=VALUE; repeat: same key OR, keys AND)',
      multiple: true,
      multipleNonGreedy: true,
    }),
    last: Flags.integer({char: 'n', description: 'show the n last created containers (all states)', default: -1}),
    latest: Flags.boolean({char: 'l', description: 'show the latest created container (all states)'}),
    size: Flags.boolean({char: 's', description: 'show the size of each writable layer'}),
    format: Flags.string({description: "output: table, json (one object per line), 'table TEMPLATE' or a Go template"}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Ps)
    const ctx = await this.context(flags.config)
    const last = flags.latest ? 1 : flags.last
    const summaries = await trace.phase('ps: list (records, states)', () => containers.list(ctx, {all: flags.all, filters: flags.filter, last}))
    const trunc = !flags['no-trunc']
    if (flags.quiet) {
      for (const s of summaries) this.log(trunc ? s.record.id.slice(0, 12) : s.record.id)
      return
    }
    const wantsSize = flags.size || /\.Size\b/.test(flags.format ?? '')
    const rows: PsRow[] = []
    for (const s of summaries) {
      rows.push(new PsRow(s, {trunc, size: wantsSize ? await containers.writableLayerSize(ctx, s.record) : undefined}))
    }
    const format = flags.size && (flags.format === undefined || flags.format === 'table') ? `table ${PS_SIZE_TABLE}` : flags.format
    process.stdout.write(trace.phase('ps: table', () => formatOutput(format, rows, PS_FORMAT)))
  }
}
