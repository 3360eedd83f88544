import {CtrCommand} from '../base-command.js'

export default class Version extends CtrCommand {
  static override description = 'Print the ctr-ts version'
  static override examples = ['<%= config.bin %> version']

  async run(): Promise<void> {
    this.log(`ctr-ts ${this.config.version} (node ${process.version})`)
  }
}
