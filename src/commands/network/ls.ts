import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {networkList, type NetworkRow} from '../../engine/networks.js'
import {formatOutput, type ListingFormat} from '../../format/output.js'
import {matchNetwork, parseNetworkFilters} from '../../network/filters.js'

class NetworkLsRow {
  constructor(private readonly row: NetworkRow, private readonly noTrunc: boolean) {}
  get ID() {
    return this.noTrunc ? this.row.net.id : this.row.net.id.slice(0, 12)
  }
  get Name() {
    return this.row.net.name
  }
  get Driver() {
    return this.row.net.driver
  }
  get Scope() {
    return 'local'
  }
  get IPv6() {
    return 'false'
  }
  get Internal() {
    return String(this.row.net.internal)
  }
  get CreatedAt() {
    return this.row.net.created
  }
  get Labels() {
    return Object.entries(this.row.net.labels).map(([k, v]) => `${k}=${v}`).join(',')
  }
  Label(key: string) {
    return this.row.net.labels[key] ?? ''
  }
  toJSON() {
    return {ID: this.ID, Name: this.Name, Driver: this.Driver, Scope: this.Scope, IPv6: this.IPv6, Internal: this.Internal, CreatedAt: this.CreatedAt, Labels: this.Labels}
  }
}

const FORMAT: ListingFormat = {
  defaultTable: '{{.ID}}\t{{.Name}}\t{{.Driver}}\t{{.Scope}}',
  headers: {ID: 'NETWORK ID', Name: 'NAME', Driver: 'DRIVER', Scope: 'SCOPE', IPv6: 'IPV6', Internal: 'INTERNAL', CreatedAt: 'CREATED AT', Labels: 'LABELS', Label: () => 'LABEL'},
}

export default class NetworkLs extends CtrCommand {
  static override description = 'List networks: the user-defined ones and the pre-defined bridge (the default network), host and none'
  static override aliases = ['network:list']
  static override examples = [
    '<%= config.bin %> network ls',
    '<%= config.bin %> network ls -q --filter label=env=ci',
    '<%= config.bin %> network ls --format "{{.Name}} {{.Internal}}"',
  ]
  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'only network ids'}),
    format: Flags.string({description: 'table (default), json (one object per line), or a Go template'}),
    filter: Flags.string({char: 'f', description: 'name=, id=, label=KEY[=VALUE], driver=, type=custom|builtin', multiple: true, multipleNonGreedy: true}),
    'no-trunc': Flags.boolean({description: 'full network ids'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(NetworkLs)
    const filters = parseNetworkFilters(flags.filter ?? [])
    const ctx = await this.context(flags.config)
    const rows = (await networkList(ctx)).filter((r) => matchNetwork(r.net, filters))
    if (flags.quiet) {
      for (const r of rows) this.log(flags['no-trunc'] ? r.net.id : r.net.id.slice(0, 12))
      return
    }
    process.stdout.write(formatOutput(flags.format, rows.map((r) => new NetworkLsRow(r, flags['no-trunc'])), FORMAT))
  }
}
