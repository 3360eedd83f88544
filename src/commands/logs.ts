import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'

export default class Logs extends CtrCommand {
  static override description = "Print a container's output (stdout and stderr, as recorded by its shim)"
  static override aliases = ['container:logs']
  static override examples = ['<%= config.bin %> logs web', '<%= config.bin %> logs -f --tail 10 web']
  static override args = {container: Args.string({ignoreStdin: true, description: 'container name or id', required: true})}
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'follow the output until the container exits'}),
    tail: Flags.string({char: 'n', description: 'number of lines from the end ("all" for every line)', default: 'all'}),
    timestamps: Flags.boolean({char: 't', description: 'show timestamps'}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(Logs)
    const ctx = await this.context(flags.config)
    const tail = flags.tail === 'all' ? undefined : Number(flags.tail)
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) this.error(`invalid --tail value "${flags.tail}"`, {exit: 125})
    await containers.logs(ctx, args.container, {
      follow: flags.follow,
      tail,
      timestamps: flags.timestamps,
      write: (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text),
    })
  }
}
