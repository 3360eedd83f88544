import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {terminalIO} from '../cli/terminal.js'
import * as containers from '../engine/containers.js'
import {describeError, ExitCodeSignal} from '../errors.js'

export default class Start extends CtrCommand {
  static override description = 'Start one or more created or stopped containers'
  static override aliases = ['container:start']
  static override examples = [
    '<%= config.bin %> start box',
    '<%= config.bin %> start -ai box',
    '<%= config.bin %> start --all-restartable   # at boot or login: always and unless-stopped containers',
  ]
  static override strict = false
  static override args = {container: Args.string({ignoreStdin: true, description: 'container name or id'})}
  static override flags = {
    attach: Flags.boolean({char: 'a', description: "attach to the container's output and exit with its code"}),
    interactive: Flags.boolean({char: 'i', description: "attach the container's stdin"}),
    'detach-keys': Flags.string({description: 'key sequence to detach', default: 'ctrl-p,ctrl-q'}),
    'all-restartable': Flags.boolean({
      description: "start every container with --restart always, and unless-stopped ones the user did not stop, that is not running (for a boot or login unit)",
      exclusive: ['attach', 'interactive'],
    }),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Start)
    const ctx = await this.context(flags.config)
    const names = argv as string[]
    if (flags['all-restartable']) {
      if (names.length > 0) this.error('--all-restartable takes no container names', {exit: 1})
      let failed = false
      await containers.startRestartable(ctx, (rec, err) => {
        if (err === undefined) return this.log(rec.name)
        failed = true
        this.logToStderr(`${rec.name}: ${describeError(err).message}`)
      })
      if (failed) throw new ExitCodeSignal(1)
      return
    }
    if (names.length === 0) this.error('start needs at least one container', {exit: 1})
    if (flags.attach && names.length > 1) this.error('you cannot start and attach multiple containers at once', {exit: 125})
    for (const name of names) {
      if (!flags.attach) {
        await containers.start(ctx, name)
        this.log(name)
        continue
      }
      const result = await containers.startAttached(ctx, name, (rec) => ({
        tty: rec.tty,
        stdin: flags.interactive && rec.stdin,
        detachKeys: flags['detach-keys'],
        sigProxy: !rec.tty,
        io: terminalIO(),
      }))
      if (!result.detached) throw new ExitCodeSignal(result.exitCode)
    }
  }
}
