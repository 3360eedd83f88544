import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {humanSize} from '../cli/table.js'
import * as admin from '../engine/container-admin.js'
import type {StatsRow} from '../engine/container-admin.js'
import {formatOutput, type ListingFormat} from '../format/output.js'

const STATS_FORMAT: ListingFormat = {
  defaultTable: '{{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}',
  headers: {
    Container: 'CONTAINER',
    ID: 'CONTAINER ID',
    Name: 'NAME',
    CPUPerc: 'CPU %',
    MemUsage: 'MEM USAGE / LIMIT',
    MemPerc: 'MEM %',
    NetIO: 'NET I/O',
    BlockIO: 'BLOCK I/O',
    PIDs: 'PIDS',
  },
}

const NA = '--'

/** go-units BytesSize: binary units, four significant digits (1.5MiB). */
function binarySize(bytes: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let v = bytes
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${Number(v.toPrecision(4))}${units[i]}`
}

const pair = (a: number | undefined, b: number | undefined, f: (n: number) => string) => (a === undefined || b === undefined ? NA : `${f(a)} / ${f(b)}`)

/** docker's formatter.statsContext: what `--format` sees. */
class StatsEntry {
  constructor(
    private readonly row: StatsRow,
    private readonly container: string,
    private readonly trunc: boolean,
  ) {}
  get Container(): string {
    return this.container
  }
  get ID(): string {
    return this.trunc ? this.row.id.slice(0, 12) : this.row.id
  }
  get Name(): string {
    return this.row.name
  }
  get CPUPerc(): string {
    return this.row.cpuPercent === undefined ? NA : `${this.row.cpuPercent.toFixed(2)}%`
  }
  get MemUsage(): string {
    return pair(this.row.memUsage, this.row.memLimit, binarySize)
  }
  get MemPerc(): string {
    const {memUsage: u, memLimit: l} = this.row
    return u === undefined || l === undefined ? NA : `${(l > 0 ? (u / l) * 100 : 0).toFixed(2)}%`
  }
  get NetIO(): string {
    return pair(this.row.netRx, this.row.netTx, humanSize)
  }
  get BlockIO(): string {
    return pair(this.row.blockRead, this.row.blockWrite, humanSize)
  }
  get PIDs(): string {
    return this.row.pids === undefined ? NA : String(this.row.pids)
  }
  toJSON() {
    return {BlockIO: this.BlockIO, CPUPerc: this.CPUPerc, Container: this.Container, ID: this.ID, MemPerc: this.MemPerc, MemUsage: this.MemUsage, Name: this.Name, NetIO: this.NetIO, PIDs: this.PIDs}
  }
}

export default class Stats extends CtrCommand {
  static override description = "Display a live stream of containers' resource usage (CPU, memory, network, block I/O and PIDs from /proc; -- where unreadable)"
  static override aliases = ['container:stats']
  static override examples = [
    '<%= config.bin %> stats',
    '<%= config.bin %> stats --no-stream web',
    "<%= config.bin %> stats --no-stream --format '{{.Name}} {{.CPUPerc}} {{.MemUsage}}'",
    '<%= config.bin %> stats --all --no-stream --format json',
  ]
  static override strict = false
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'show all containers (default shows just running)'}),
    'no-stream': Flags.boolean({description: 'disable streaming stats and only pull the first result'}),
    'no-trunc': Flags.boolean({description: 'do not truncate output'}),
    format: Flags.string({description: 'table, json, or a Go template'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Stats)
    const names = argv as string[]
    const ctx = await this.context(flags.config)
    const render = async () => {
      const rows = await admin.stats(ctx, names, {all: flags.all, intervalMs: 1000})
      const entries = rows.map((r, i) => new StatsEntry(r, names[i] ?? r.id.slice(0, 12), !flags['no-trunc']))
      return formatOutput(flags.format, entries, STATS_FORMAT)
    }
    if (flags['no-stream']) {
      process.stdout.write(await render())
      return
    }
    let stop = false
    process.once('SIGINT', () => (stop = true))
    while (!stop) {
      const text = await render()
      if (stop) break
      // docker clears the screen and redraws
      process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : text)
    }
  }
}
