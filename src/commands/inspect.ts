import {Flags} from '@oclif/core'
import {INSPECT_FORMAT_FLAG, InspectBase} from '../cli/inspect-base.js'

export default class Inspect extends InspectBase {
  static override description = "Show low-level information on containers and images (docker's inspect JSON, or a Go template per object)"
  static override examples = [
    '<%= config.bin %> inspect web',
    "<%= config.bin %> inspect -f '{{.State.Status}} {{.State.ExitCode}}' web db",
    "<%= config.bin %> inspect --type image -f '{{.Config.Cmd}}' busybox",
    "<%= config.bin %> inspect -f '{{json .NetworkSettings.Ports}}' web",
  ]
  static override strict = false
  static override flags = {
    format: INSPECT_FORMAT_FLAG,
    type: Flags.string({description: 'only look for this kind of object', options: ['container', 'image']}),
    size: Flags.boolean({char: 's', description: 'add SizeRw (writable layer) and SizeRootFs (with the image) to containers'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Inspect)
    await this.inspect(argv as string[], flags.format, flags.type as 'container' | 'image' | undefined, flags.config, flags.size)
  }
}
