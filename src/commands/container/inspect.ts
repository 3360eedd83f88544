import {Flags} from '@oclif/core'
import {INSPECT_FORMAT_FLAG, InspectBase} from '../../cli/inspect-base.js'

export default class ContainerInspect extends InspectBase {
  static override description = "Show low-level information on containers (docker's inspect JSON, or a Go template per container)"
  static override examples = ['<%= config.bin %> container inspect web', "<%= config.bin %> container inspect -f '{{.State.Pid}}' web"]
  static override strict = false
  static override flags = {
    format: INSPECT_FORMAT_FLAG,
    size: Flags.boolean({char: 's', description: 'add SizeRw (writable layer) and SizeRootFs (with the image) to containers'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ContainerInspect)
    await this.inspect(argv as string[], flags.format, 'container', flags.config, flags.size)
  }
}
