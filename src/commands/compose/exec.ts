import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, loadComposeProject} from '../../cli/compose.js'
import {flagShapes} from '../../cli/flag-shapes.js'
import {expandShortClusters, splitAtPositional} from '../../cli/split-argv.js'
import {serviceContainer} from '../../compose/project/select.js'
import * as containers from '../../engine/containers.js'
import {ExitCodeSignal, UsageError} from '../../errors.js'

export default class ComposeExec extends CtrCommand {
  static override description = "Run a command in a service's running container"
  static override examples = ['<%= config.bin %> compose exec web sh', '<%= config.bin %> compose exec -T db psql -U postgres', '<%= config.bin %> compose exec --index 2 -e DEBUG=1 worker env']
  static override strict = false
  static override args = {
    service: Args.string({description: 'the service', required: true}),
    command: Args.string({description: 'command and arguments'}),
  }
  static override flags = {
    ...composeFlags,
    detach: Flags.boolean({char: 'd', description: 'run the command in the background'}),
    'no-TTY': Flags.boolean({char: 'T', description: 'no pseudo-terminal (default: one when stdin is a terminal)'}),
    interactive: Flags.boolean({char: 'i', description: 'keep stdin open (default)', default: true, allowNo: true}),
    tty: Flags.boolean({char: 't', description: 'allocate a pseudo-terminal (the default when stdin is a terminal)'}),
    user: Flags.string({char: 'u', description: 'user: name|uid[:group|gid]'}),
    workdir: Flags.string({char: 'w', description: 'working directory inside the container'}),
    env: Flags.string({char: 'e', description: 'set an environment variable (KEY=VALUE)', multiple: true, multipleNonGreedy: true}),
    index: Flags.integer({description: 'the container of the service with this number', default: 1}),
    privileged: Flags.boolean({description: 'extended privileges for the command (not supported: refused)'}),
  }

  async run(): Promise<void> {
    const shapes = flagShapes({...ComposeExec.flags, ...CtrCommand.baseFlags})
    const {own, rest} = splitAtPositional(this.argv, shapes)
    const {flags, args} = await this.parse(ComposeExec, expandShortClusters(own, shapes))
    if (rest.length === 0) throw new UsageError('compose exec needs a command to run')
    if (flags.privileged) throw new UsageError('compose exec --privileged is not supported: the command gets the container\'s own capabilities')
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    const c = await serviceContainer(ctx, project, args.service, {index: flags.index, running: true})
    const tty = !flags['no-TTY'] && (flags.tty || process.stdin.isTTY === true)
    const code = await containers.exec(ctx, c.id, {
      args: rest,
      tty,
      interactive: flags.interactive && !flags.detach,
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
