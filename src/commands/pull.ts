import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {pullImage} from '../engine/images.js'
import {createProgress} from '../progress/render.js'
import {parseReference} from '../reference/parse.js'

export default class Pull extends CtrCommand {
  static override description = 'Pull an image from a registry'
  static override aliases = ['image:pull']
  static override examples = [
    '<%= config.bin %> pull alpine',
    '<%= config.bin %> pull --platform linux/arm64 docker.io/library/busybox:1.36',
    '<%= config.bin %> pull localhost:5000/app@sha256:…',
  ]
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'image reference (name[:tag][@digest])', required: true}),
  }
  static override flags = {
    platform: Flags.string({description: 'platform to pull: os/arch[/variant] (default: config platform, else the host)'}),
    quiet: Flags.boolean({char: 'q', description: 'no progress output; print only the reference'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Pull)
    parseReference(args.image) // a bad reference is refused before the store is touched
    const ctx = await this.context(flags.config)
    const progress = flags.quiet ? undefined : createProgress(process.stderr)
    const pulled = await pullImage(ctx, args.image, {platform: flags.platform, onEvent: progress?.sink}).finally(() => progress?.finish())
    this.log(pulled.ref)
  }
}
