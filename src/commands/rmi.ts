import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {describeError, UsageError} from '../errors.js'
import {listImages, removeImages} from '../engine/images.js'

export default class Rmi extends CtrCommand {
  static override description = 'Remove images; blobs and layers no image uses any more are deleted'
  static override aliases = ['image:rm']
  static override strict = false
  static override examples = ['<%= config.bin %> rmi alpine', '<%= config.bin %> rmi -f 3f57d9401f8d', '<%= config.bin %> rmi -a']
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'image name or id'}),
  }
  static override flags = {
    all: Flags.boolean({char: 'a', description: 'remove every image (as podman; images containers use only with -f)'}),
    force: Flags.boolean({char: 'f', description: 'remove even if containers use it, or it has several references'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Rmi)
    if (argv.length === 0 && !flags.all) throw new UsageError('"rmi" requires at least 1 argument')
    if (argv.length > 0 && flags.all) throw new UsageError('--all and image names cannot be used together')
    const ctx = await this.context(flags.config)
    const names = flags.all ? [...new Set((await listImages(ctx)).map((r) => r.Ref))] : (argv as string[])
    const res = await removeImages(ctx, names, {force: flags.force})
    for (const line of res.lines) this.log(line)
    if (res.errors.length > 0) {
      for (const err of res.errors.slice(0, -1)) process.stderr.write(`ctr-ts: ${describeError(err).message}\n`)
      throw res.errors.at(-1)
    }
  }
}
