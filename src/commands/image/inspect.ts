import {INSPECT_FORMAT_FLAG, InspectBase} from '../../cli/inspect-base.js'

export default class ImageInspectCommand extends InspectBase {
  static override description = "Show details of images (docker's image inspect JSON, or a Go template per image)"
  static override examples = ['<%= config.bin %> image inspect alpine', "<%= config.bin %> image inspect -f '{{.Os}}/{{.Architecture}} {{.Size}}' alpine"]
  static override strict = false
  static override flags = {format: INSPECT_FORMAT_FLAG}

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ImageInspectCommand)
    await this.inspect(argv as string[], flags.format, 'image', flags.config)
  }
}
