import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {copy, parseCopyEndpoint} from '../engine/copy.js'

export default class Cp extends CtrCommand {
  static override description = "Copy files between a container's filesystem (running or stopped) and the host; - is a tar stream on stdin/stdout"
  static override aliases = ['container:cp']
  static override usage = ['cp [OPTIONS] CONTAINER:SRC_PATH DEST_PATH|-', 'cp [OPTIONS] SRC_PATH|- CONTAINER:DEST_PATH']
  static override examples = [
    '<%= config.bin %> cp web:/etc/hosts .',
    '<%= config.bin %> cp ./site/. web:/www',
    '<%= config.bin %> cp web:/var/log - | tar -tv',
    'tar -c -C conf . | <%= config.bin %> cp -a - web:/etc/app',
  ]
  static override args = {
    src: Args.string({required: true, description: 'CONTAINER:SRC_PATH, a host path, or - (a tar on stdin)'}),
    dest: Args.string({required: true, description: 'CONTAINER:DEST_PATH, a host path, or - (a tar on stdout)'}),
  }
  static override flags = {
    archive: Flags.boolean({char: 'a', description: 'archive mode (copy all uid/gid information)'}),
    'follow-link': Flags.boolean({char: 'L', description: 'always follow symbol link in SRC_PATH'}),
    quiet: Flags.boolean({char: 'q', description: 'suppress progress output (there is none)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Cp)
    const ctx = await this.context(flags.config)
    await copy(ctx, parseCopyEndpoint(args.src), parseCopyEndpoint(args.dest), {
      archive: flags.archive,
      follow: flags['follow-link'],
      stdin: process.stdin,
      stdout: process.stdout,
    })
  }
}
