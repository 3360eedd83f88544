import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {createFlags, toCreateOptions} from '../cli/container-flags.js'
import {flagShapes} from '../cli/flag-shapes.js'
import {expandShortClusters, splitAtPositional} from '../cli/split-argv.js'
import {createContainer} from '../container/create.js'
import {removeContainer} from '../container/lifecycle.js'
import {findContainer} from '../container/record.js'
import {startAttached, startContainer} from '../container/start.js'
import {ExitCodeSignal} from '../errors.js'

export default class Run extends CtrCommand {
  static override description = 'Create and start a container; the image is pulled first when missing'
  static override examples = [
    '<%= config.bin %> run --rm alpine echo hello',
    '<%= config.bin %> run --init -it alpine sh',
    '<%= config.bin %> run -d -p 8080:80 --name web nginx',
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
  }

  async run(): Promise<void> {
    const shapes = flagShapes({...Run.flags, ...CtrCommand.baseFlags})
    const {own, rest} = splitAtPositional(this.argv, shapes)
    const {flags, args} = await this.parse(Run, expandShortClusters(own, shapes))
    const ctx = await this.context(flags.config)
    const rec = await createContainer(ctx, toCreateOptions(flags, args.image, rest))
    if (flags.detach) {
      try {
        await startContainer(ctx, rec, {attach: false})
      } catch (err) {
        if (rec.autoRemove) await removeContainer(ctx, rec, true).catch(() => undefined)
        throw err
      }
      this.log(rec.id)
      return
    }
    let result
    try {
      result = await startAttached(ctx, rec, {
        tty: flags.tty,
        stdin: flags.interactive,
        detachKeys: flags['detach-keys'],
        sigProxy: flags['sig-proxy'] && !flags.tty,
      })
    } catch (err) {
      if (rec.autoRemove) await removeContainer(ctx, rec, true).catch(() => undefined)
      throw err
    }
    if (result.detached) return
    if (rec.autoRemove) {
      // The shim removed it; make sure, in case the shim was killed.
      const still = await findContainer(ctx, rec.id).catch(() => undefined)
      if (still) await removeContainer(ctx, still, true)
    }
    throw new ExitCodeSignal(result.exitCode)
  }
}
