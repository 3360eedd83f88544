import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {parseDockerTime} from '../cli/docker-time.js'
import * as containers from '../engine/containers.js'

export default class Logs extends CtrCommand {
  static override description = "Print a container's output (stdout and stderr, as recorded by its shim)"
  static override aliases = ['container:logs']
  static override examples = [
    '<%= config.bin %> logs web',
    '<%= config.bin %> logs -f --tail 10 web',
    '<%= config.bin %> logs --since 10m --until 2m -t web',
    '<%= config.bin %> logs --since 2024-01-02T15:04:05Z web',
  ]
  static override args = {container: Args.string({ignoreStdin: true, description: 'container name or id', required: true})}
  static override flags = {
    follow: Flags.boolean({char: 'f', description: 'follow the output until the container exits'}),
    tail: Flags.string({char: 'n', description: 'number of lines from the end ("all" for every line)', default: 'all'}),
    timestamps: Flags.boolean({char: 't', description: 'show timestamps'}),
    since: Flags.string({description: 'show logs since a time (RFC 3339 date, Unix timestamp, or a duration such as 42m back from now)'}),
    until: Flags.string({description: 'show logs before a time (RFC 3339 date, Unix timestamp, or a duration such as 42m back from now)'}),
    details: Flags.boolean({description: 'show extra details provided to logs'}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(Logs)
    const ctx = await this.context(flags.config)
    const tail = flags.tail === 'all' ? undefined : Number(flags.tail)
    if (tail !== undefined && (!Number.isInteger(tail) || tail < 0)) this.error(`invalid --tail value "${flags.tail}"`, {exit: 125})
    const now = Date.now()
    await containers.logs(ctx, args.container, {
      sinceMs: flags.since !== undefined ? parseDockerTime(flags.since, now, '--since') : undefined,
      untilMs: flags.until !== undefined ? parseDockerTime(flags.until, now, '--until') : undefined,
      details: flags.details,
      follow: flags.follow,
      tail,
      timestamps: flags.timestamps,
      write: (stream, text) => (stream === 'stdout' ? process.stdout : process.stderr).write(text),
    })
  }
}
