import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {createFlags, toCreateOptions} from '../cli/container-flags.js'
import {flagShapes} from '../cli/flag-shapes.js'
import {expandShortClusters, splitAtPositional} from '../cli/split-argv.js'
import {pullReporter, terminalIO} from '../cli/terminal.js'
import * as containers from '../engine/containers.js'
import {ExitCodeSignal, UsageError} from '../errors.js'
import {parseAttach} from '../spec/run-flags.js'

export default class Run extends CtrCommand {
  static override description = 'Create and start a container; the image is pulled first when missing'
  static override aliases = ['container:run']
  static override examples = [
    '<%= config.bin %> run --rm alpine echo hello',
    '<%= config.bin %> run --init -it alpine sh',
    '<%= config.bin %> run -d -p 8080:80 --name web nginx',
    '<%= config.bin %> run --rm --add-host db:host-gateway --dns 1.1.1.1 alpine cat /etc/hosts',
    '<%= config.bin %> run --rm --mount type=tmpfs,target=/scratch,tmpfs-size=64m --ulimit nofile=1024:1024 alpine sh',
    '<%= config.bin %> run --rm --sysctl net.ipv4.ip_unprivileged_port_start=0 --group-add audio alpine id',
  ]
  static override strict = false
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'image to run', required: true}),
    command: Args.string({ignoreStdin: true, description: 'command and arguments (default: the image entrypoint/cmd)'}),
  }
  static override flags = {
    ...createFlags,
    detach: Flags.boolean({char: 'd', description: 'run in the background and print the container id'}),
    'detach-keys': Flags.string({description: 'key sequence to detach from the container', default: 'ctrl-p,ctrl-q'}),
    'sig-proxy': Flags.boolean({description: 'forward signals to the container (without -t)', default: true, allowNo: true}),
    attach: Flags.string({char: 'a', description: 'attach only these streams: stdin, stdout, stderr (repeatable)', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const shapes = flagShapes({...Run.flags, ...CtrCommand.baseFlags})
    const {own, rest} = splitAtPositional(this.argv, shapes)
    const {flags, args} = await this.parse(Run, expandShortClusters(own, shapes))
    const attach = parseAttach(flags.attach ?? [])
    if (flags.detach && flags.attach) throw new UsageError('conflicting options: cannot specify both --attach and --detach')
    const ctx = await this.context(flags.config)
    const pull = pullReporter()
    let result
    try {
      result = await containers.run(
        ctx,
        {
          create: toCreateOptions(flags, args.image, rest),
          detach: flags.detach,
          session: {
            tty: flags.tty,
            stdin: flags.interactive && attach.has('stdin'),
            detachKeys: flags['detach-keys'],
            sigProxy: flags['sig-proxy'] && !flags.tty,
            io: terminalIO(attach),
          },
        },
        pull.events,
      )
    } finally {
      pull.finish()
    }
    if (result.detached) {
      if (flags.detach) this.log(result.id)
      return
    }
    throw new ExitCodeSignal(result.exitCode)
  }
}
