import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {COMPOSE_VERSION} from '../../compose/project/labels.js'

export default class ComposeVersion extends CtrCommand {
  static override description = 'The compose version ctr-ts follows (what com.docker.compose.version labels say)'
  static override flags = {
    short: Flags.boolean({description: 'only the version number'}),
    format: Flags.string({char: 'f', description: 'pretty or json', options: ['pretty', 'json'], default: 'pretty'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ComposeVersion)
    if (flags.short) this.log(COMPOSE_VERSION)
    else if (flags.format === 'json') this.log(JSON.stringify({version: `v${COMPOSE_VERSION}`}))
    else this.log(`ctr-ts compose version v${COMPOSE_VERSION}`)
  }
}
