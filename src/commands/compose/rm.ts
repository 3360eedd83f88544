import {Args, Flags} from '@oclif/core'
import {createInterface} from 'node:readline/promises'
import {CtrCommand} from '../../base-command.js'
import {composeFlagsLongFile, composeProgress, loadComposeProject, timeoutFlag} from '../../cli/compose.js'
import {removableContainers, removeContainers} from '../../compose/project/lifecycle.js'

export default class ComposeRm extends CtrCommand {
  static override description = 'Remove the stopped containers of a compose project'
  static override examples = ['<%= config.bin %> compose rm -f', '<%= config.bin %> compose rm -s -v -f worker']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlagsLongFile,
    force: Flags.boolean({char: 'f', description: 'do not ask for confirmation'}),
    stop: Flags.boolean({char: 's', description: 'stop the containers first'}),
    volumes: Flags.boolean({char: 'v', description: 'remove their anonymous volumes too'}),
    timeout: timeoutFlag,
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeRm)
    const project = await loadComposeProject(flags)
    const ctx = await this.context(flags.config)
    const list = await removableContainers(ctx, project, argv as string[], flags.stop)
    if (list.length === 0) {
      process.stderr.write('No stopped containers\n')
      return
    }
    if (!flags.force && process.stdin.isTTY) {
      const rl = createInterface({input: process.stdin, output: process.stderr})
      const answer = await rl.question(`Going to remove ${list.map((c) => c.name).join(', ')}\n? Are you sure? (y/N) `)
      rl.close()
      if (!/^y(es)?$/i.test(answer.trim())) return
    }
    await removeContainers(ctx, list, {stop: flags.stop, volumes: flags.volumes, timeoutSec: flags.timeout, progress: composeProgress()})
  }
}
