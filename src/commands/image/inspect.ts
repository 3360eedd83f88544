import {Args} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {describeError, NotFoundError} from '../../errors.js'
import {inspectImages} from '../../engine/images.js'

export default class ImageInspectCommand extends CtrCommand {
  static override description = 'Show details of images as a JSON array'
  static override strict = false
  static override examples = ['<%= config.bin %> image inspect alpine']
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'image name or id', required: true}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(ImageInspectCommand)
    const ctx = await this.context(flags.config)
    const {images, errors} = await inspectImages(ctx, argv as string[])
    this.log(JSON.stringify(images, null, 2))
    if (errors.length > 0) {
      for (const err of errors.slice(0, -1)) process.stderr.write(`ctr-ts: ${describeError(err).message}\n`)
      throw errors.at(-1) ?? new NotFoundError('no such image')
    }
  }
}
