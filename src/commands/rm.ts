import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'
import {NotFoundError} from '../errors.js'

export default class Rm extends CtrCommand {
  static override description = 'Remove containers (their writable layer, logs and state)'
  static override aliases = ['container:rm', 'container:remove']
  static override examples = ['<%= config.bin %> rm box', '<%= config.bin %> rm -f web']
  static override strict = false
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'kill a running container first; no error for missing ones'}),
    volumes: Flags.boolean({char: 'v', description: 'remove anonymous volumes too (ctr-ts creates none)'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Rm)
    if (argv.length === 0) this.error('rm needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    let failed: unknown
    for (const name of argv as string[]) {
      try {
        await containers.remove(ctx, name, {force: flags.force})
        this.log(name)
      } catch (err) {
        if (flags.force && err instanceof NotFoundError) continue
        failed = err
        process.stderr.write(`ctr-ts: ${(err as Error).message}\n`)
      }
    }
    if (failed) process.exitCode = 1
  }
}
