import {Flags} from '@oclif/core'
import {arch, platform} from 'node:os'
import {CtrCommand} from '../base-command.js'

const GO_ARCH: Record<string, string> = {x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64'}

export default class Version extends CtrCommand {
  static override description = 'Print the ctr-ts version'
  static override examples = [
    '<%= config.bin %> version',
    "<%= config.bin %> version --format '{{.Client.Version}}'",
    '<%= config.bin %> version --format json',
  ]
  static override flags = {
    format: Flags.string({char: 'f', description: "json, or a Go template on docker's version fields ({{.Client.Version}}, {{.Server.Version}}, {{.Client.Os}})"}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Version)
    if (flags.format === undefined || flags.format === '') {
      this.log(`ctr-ts ${this.config.version} (node ${process.version})`)
      return
    }
    // docker's version document; ctr-ts has no daemon: the engine that serves it is this program.
    const side = {
      Platform: {Name: 'ctr-ts'},
      Version: this.config.version,
      ApiVersion: '1.41',
      DefaultAPIVersion: '1.41',
      GitCommit: '',
      GoVersion: '',
      NodeVersion: process.version,
      Os: platform(),
      Arch: GO_ARCH[arch()] ?? arch(),
      BuildTime: '',
    }
    const doc = {Client: side, Server: {...side, Components: [{Name: 'Engine', Version: this.config.version}]}}
    const {formatInspect} = await import('../format/output.js') // the Go template engine only for --format
    process.stdout.write(formatInspect(flags.format === 'json' ? '{{json .}}' : flags.format, [doc]))
  }
}
