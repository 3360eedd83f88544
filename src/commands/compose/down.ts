import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {composeFlags, composeProgress, loadComposeProject, timeoutFlag} from '../../cli/compose.js'
import type {ComposeProject} from '../../compose/model/types.js'
import {down} from '../../compose/project/down.js'
import {NotFoundError} from '../../errors.js'

export default class ComposeDown extends CtrCommand {
  static override description = 'Stop and remove the containers and networks of a compose project (-v: its volumes too)'
  static override examples = ['<%= config.bin %> compose down', '<%= config.bin %> compose down -v --remove-orphans', '<%= config.bin %> compose down --rmi local', '<%= config.bin %> compose -p myapp down (no compose file needed)']
  static override flags = {
    ...composeFlags,
    volumes: Flags.boolean({char: 'v', description: 'remove the named volumes of the compose file and the containers\' anonymous volumes'}),
    'remove-orphans': Flags.boolean({description: 'remove containers of services not in the compose file'}),
    rmi: Flags.string({description: 'remove images: all (every service image) or local (the ones built without an image: name)', options: ['all', 'local']}),
    timeout: timeoutFlag,
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ComposeDown)
    let project: ComposeProject | string
    try {
      project = await loadComposeProject(flags)
    } catch (err) {
      // docker compose: `down -p NAME` needs no file, the labels say what belongs to the project
      if (!(err instanceof NotFoundError) || !flags['project-name'] || !/no configuration file/.test(err.message)) throw err
      project = flags['project-name']
    }
    const ctx = await this.context(flags.config)
    await down(ctx, project, {
      volumes: flags.volumes,
      removeOrphans: flags['remove-orphans'],
      rmi: flags.rmi as 'all' | 'local' | undefined,
      timeoutSec: flags.timeout,
      progress: composeProgress(),
    })
  }
}
