import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {terminalIO} from '../cli/terminal.js'
import * as containers from '../engine/containers.js'
import {ExitCodeSignal} from '../errors.js'

export default class Attach extends CtrCommand {
  static override description = "Attach the terminal to a running container's input and output"
  static override aliases = ['container:attach']
  static override examples = ['<%= config.bin %> attach box']
  static override args = {container: Args.string({ignoreStdin: true, description: 'container name or id', required: true})}
  static override flags = {
    'no-stdin': Flags.boolean({description: 'do not attach stdin'}),
    'detach-keys': Flags.string({description: 'key sequence to detach', default: 'ctrl-p,ctrl-q'}),
    'sig-proxy': Flags.boolean({description: 'forward signals (without a tty)', default: true, allowNo: true}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(Attach)
    const ctx = await this.context(flags.config)
    const result = await containers.attach(ctx, args.container, (rec) => ({
      tty: rec.tty,
      stdin: rec.stdin && !flags['no-stdin'],
      detachKeys: flags['detach-keys'],
      sigProxy: flags['sig-proxy'] && !rec.tty,
      io: terminalIO(),
    }))
    if (!result.detached) throw new ExitCodeSignal(result.exitCode)
  }
}
