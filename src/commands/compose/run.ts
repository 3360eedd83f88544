import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject} from '../../cli/compose.js'
import {flagShapes} from '../../cli/flag-shapes.js'
import {expandShortClusters, splitAtPositional} from '../../cli/split-argv.js'
import {terminalIO} from '../../cli/terminal.js'
import {serviceOrder} from '../../compose/project/order.js'
import {runOneOff} from '../../compose/project/run-oneoff.js'
import {ExitCodeSignal} from '../../errors.js'

export default class ComposeRun extends CtrCommand {
  static override description = 'Run a one-off command in a new container of a service (its dependencies are started first)'
  static override examples = ['<%= config.bin %> compose run --rm web sh', '<%= config.bin %> compose run --rm -T --no-deps -e DEBUG=1 worker ./migrate']
  static override strict = false
  static override args = {
    service: Args.string({description: 'the service', required: true}),
    command: Args.string({description: "command and arguments (default: the service's command)"}),
  }
  static override flags = {
    ...composeFlags,
    detach: Flags.boolean({char: 'd', description: 'run in the background and print the container name'}),
    rm: Flags.boolean({description: 'remove the container when it exits'}),
    name: Flags.string({description: 'the container name'}),
    env: Flags.string({char: 'e', description: 'set an environment variable (KEY=VALUE)', multiple: true, multipleNonGreedy: true}),
    'no-deps': Flags.boolean({description: 'do not start the services it depends on'}),
    'no-TTY': Flags.boolean({char: 'T', description: 'no pseudo-terminal (default: one when stdin is a terminal)'}),
    interactive: Flags.boolean({char: 'i', description: 'keep stdin open (default)', default: true, allowNo: true}),
    user: Flags.string({char: 'u', description: 'user: name|uid[:group|gid]'}),
    workdir: Flags.string({char: 'w', description: 'working directory inside the container'}),
    entrypoint: Flags.string({description: "override the service's entrypoint"}),
    'service-ports': Flags.boolean({description: "publish the service's ports"}),
    build: Flags.boolean({description: 'build the image first'}),
  }

  async run(): Promise<void> {
    const shapes = flagShapes({...ComposeRun.flags, ...CtrCommand.baseFlags})
    const {own, rest} = splitAtPositional(this.argv, shapes)
    const {flags, args} = await this.parse(ComposeRun, expandShortClusters(own, shapes))
    const project = await loadComposeProject(flags)
    serviceOrder(project, [args.service], {noDeps: true})
    const ctx = await this.context(flags.config)
    const tty = !flags['no-TTY'] && process.stdin.isTTY === true && !flags.detach
    const result = await runOneOff(ctx, project, args.service, {
      noDeps: flags['no-deps'],
      build: flags.build,
      detach: flags.detach,
      progress: composeProgress(),
      buildOutput: process.stderr,
      ...(flags.name ? {name: flags.name} : {}),
      ...(rest.length > 0 ? {command: rest} : {}),
      ...(flags.entrypoint !== undefined ? {entrypoint: flags.entrypoint === '' ? [] : [flags.entrypoint]} : {}),
      tty,
      interactive: flags.interactive && !flags.detach,
      autoRemove: flags.rm,
      publish: flags['service-ports'],
      env: flags.env ?? [],
      ...(flags.user ? {user: flags.user} : {}),
      ...(flags.workdir ? {workdir: flags.workdir} : {}),
      session: {tty, stdin: flags.interactive, detachKeys: 'ctrl-p,ctrl-q', sigProxy: !tty, io: terminalIO()},
    })
    if (result.detached) {
      if (flags.detach) this.log(result.name)
      return
    }
    throw new ExitCodeSignal(result.exitCode)
  }
}
