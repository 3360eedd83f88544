import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import * as volumes from '../../engine/volumes.js'
import {formatOutput, type ListingFormat} from '../../format/output.js'

/** A row of `volume ls` as docker's formatter sees it (`--format '{{.Name}} {{.Label "k"}}'`). */
export class VolumeRow {
  constructor(private readonly s: volumes.VolumeSummary) {}
  get Name() {
    return this.s.volume.name
  }
  get Driver() {
    return this.s.volume.driver
  }
  get Scope() {
    return 'local'
  }
  get Mountpoint() {
    return this.s.mountpoint
  }
  get Labels() {
    return Object.entries(this.s.volume.labels).map(([k, v]) => `${k}=${v}`).join(',')
  }
  get Links() {
    return 'N/A'
  }
  get Size() {
    return 'N/A'
  }
  Label(key: string) {
    return this.s.volume.labels[key] ?? ''
  }
  toJSON() {
    const na = 'N/A'
    return {Availability: na, Driver: this.Driver, Group: na, Labels: this.Labels, Links: na, Mountpoint: this.Mountpoint, Name: this.Name, Scope: this.Scope, Size: na, Status: na}
  }
}

export const VOLUME_FORMAT: ListingFormat = {
  defaultTable: '{{.Driver}}\t{{.Name}}',
  headers: {Driver: 'DRIVER', Name: 'VOLUME NAME', Scope: 'SCOPE', Mountpoint: 'MOUNTPOINT', Labels: 'LABELS', Links: 'LINKS', Size: 'SIZE', Label: () => 'LABEL'},
}

export default class VolumeLs extends CtrCommand {
  static override summary = 'List volumes'
  static override aliases = ['volume:list']
  static override examples = [
    '<%= config.bin %> volume ls',
    '<%= config.bin %> volume ls -q --filter dangling=true',
    "<%= config.bin %> volume ls --format '{{.Name}}\\t{{.Mountpoint}}'",
  ]
  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'only volume names'}),
    filter: Flags.string({char: 'f', description: 'filter: dangling=true|false, name=REGEXP, label=KEY[=VALUE], driver=local', multiple: true, multipleNonGreedy: true}),
    format: Flags.string({description: 'table (default), json (one object per line), or a Go template'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(VolumeLs)
    const ctx = await this.context(flags.config)
    const list = await volumes.list(ctx, flags.filter ?? [])
    if (flags.quiet) {
      for (const s of list) this.log(s.volume.name)
      return
    }
    process.stdout.write(formatOutput(flags.format, list.map((s) => new VolumeRow(s)), VOLUME_FORMAT))
  }
}
