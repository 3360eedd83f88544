import {Args, Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'
import {CtrCommand} from '../base-command.js'
import {pushImage} from '../engine/images.js'
import {createPushProgress} from '../progress/push-events.js'
import {parseReference} from '../reference/parse.js'

export default class Push extends CtrCommand {
  static override description = 'Push an image to a registry'
  static override examples = [
    '<%= config.bin %> push 127.0.0.1:5000/app:1',
    '<%= config.bin %> push alpine 127.0.0.1:5000/mirror/alpine:3',
    '<%= config.bin %> push --digestfile digest.txt -q registry.example.com/team/app:latest',
  ]
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'image in the store (name[:tag], id)', required: true}),
    dest: Args.string({ignoreStdin: true, description: 'where to push it (registry/repository[:tag]); default: the image name'}),
  }
  static override flags = {
    quiet: Flags.boolean({char: 'q', description: 'no progress output'}),
    digestfile: Flags.string({description: 'write the digest of the pushed manifest (or index) to this file'}),
    'compression-format': Flags.string({options: ['gzip', 'zstd'], default: 'gzip', description: 'compression of layers stored uncompressed'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Push)
    if (args.dest) parseReference(args.dest)
    const ctx = await this.context(flags.config)
    const progress = flags.quiet ? undefined : createPushProgress(process.stderr)
    const result = await pushImage(ctx, args.image, {dest: args.dest, onEvent: progress?.sink, compression: flags['compression-format'] as 'gzip' | 'zstd'})
    if (flags.digestfile) await writeFile(flags.digestfile, result.digest)
    const tag = parseReference(result.ref).tag
    if (!flags.quiet) this.log(`${tag ?? result.digest}: digest: ${result.digest} size: ${result.size}`)
  }
}
