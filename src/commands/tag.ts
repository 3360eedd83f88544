import {Args} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as images from '../engine/image-admin.js'

export default class Tag extends CtrCommand {
  static override description = 'Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE'
  static override aliases = ['image:tag']
  static override examples = ['<%= config.bin %> tag busybox myrepo/busybox:v1', '<%= config.bin %> tag 3f57d9401f8d localhost:5000/tools']
  static override args = {
    source: Args.string({required: true, description: 'SOURCE_IMAGE[:TAG] or image id'}),
    target: Args.string({required: true, description: 'TARGET_IMAGE[:TAG]'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Tag)
    const ctx = await this.context(flags.config)
    await images.tag(ctx, args.source, args.target)
  }
}
