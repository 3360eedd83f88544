import {CtrCommand} from '../base-command.js'
import {renderTable} from '../cli/table.js'
import * as admin from '../engine/container-admin.js'

export default class Top extends CtrCommand {
  static override description = 'Display the running processes of a container (the host ps, default -ef)'
  static override aliases = ['container:top']
  static override usage = 'top CONTAINER [ps OPTIONS]'
  static override examples = ['<%= config.bin %> top web', '<%= config.bin %> top web -o pid,user,rss,args', '<%= config.bin %> top web aux']
  static override strict = false

  async run(): Promise<void> {
    // everything after the container belongs to ps, flags included (docker top web -o pid,args)
    // (oclif's parser would take ps's flags as ours: the argv is read here)
    this.parsed = true
    const raw = [...this.argv]
    let config: string | undefined
    if (raw[0] === '--config') {
      config = raw[1]
      raw.splice(0, 2)
    } else if (raw[0]?.startsWith('--config=')) config = raw.shift()!.slice('--config='.length)
    const [container, ...psArgs] = raw
    if (!container || container.startsWith('-')) this.error('top needs a container (top CONTAINER [ps OPTIONS])', {exit: 1})
    const ctx = await this.context(config)
    const {titles, processes} = await admin.top(ctx, container, psArgs)
    this.log(renderTable(titles, processes))
  }
}
