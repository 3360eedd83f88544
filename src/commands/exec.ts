import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {flagShapes} from '../cli/flag-shapes.js'
import {expandShortClusters, splitAtPositional} from '../cli/split-argv.js'
import * as containers from '../engine/containers.js'
import {ExitCodeSignal, UsageError} from '../errors.js'

export default class Exec extends CtrCommand {
  static override description = 'Run a command in a running container'
  static override aliases = ['container:exec']
  static override examples = ['<%= config.bin %> exec web ls /', '<%= config.bin %> exec -it web sh']
  static override strict = false
  static override args = {
    container: Args.string({ignoreStdin: true, description: 'container name or id', required: true}),
    command: Args.string({ignoreStdin: true, description: 'command and arguments'}),
  }
  static override flags = {
    interactive: Flags.boolean({char: 'i', description: 'keep stdin open'}),
    tty: Flags.boolean({char: 't', description: 'allocate a pseudo-terminal'}),
    detach: Flags.boolean({char: 'd', description: 'run the command in the background'}),
    env: Flags.string({char: 'e', description: 'set an environment variable', multiple: true, multipleNonGreedy: true}),
    workdir: Flags.string({char: 'w', description: 'working directory inside the container'}),
    user: Flags.string({char: 'u', description: 'user: name|uid[:group|gid]'}),
  }

  async run(): Promise<void> {
    const shapes = flagShapes({...Exec.flags, ...CtrCommand.baseFlags})
    const {own, rest} = splitAtPositional(this.argv, shapes)
    const {flags, args} = await this.parse(Exec, expandShortClusters(own, shapes))
    if (rest.length === 0) throw new UsageError('exec needs a command to run')
    const ctx = await this.context(flags.config)
    const code = await containers.exec(ctx, args.container, {
      args: rest,
      tty: flags.tty,
      interactive: flags.interactive,
      detach: flags.detach,
      env: flags.env ?? [],
      workdir: flags.workdir,
      user: flags.user,
      hostEnv: process.env,
      io: {stdin: 'inherit', stdout: 'inherit', stderr: process.stderr},
    })
    throw new ExitCodeSignal(code)
  }
}
