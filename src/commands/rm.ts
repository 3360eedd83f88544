import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import * as containers from '../engine/containers.js'
import {NotFoundError, UsageError} from '../errors.js'

export default class Rm extends CtrCommand {
  static override description = 'Remove containers (their writable layer, logs and state)'
  static override aliases = ['container:rm', 'container:remove']
  static override examples = ['<%= config.bin %> rm box', '<%= config.bin %> rm -f web', '<%= config.bin %> rm -a -f', '<%= config.bin %> rm -v db']
  static override strict = false
  static override flags = {
    force: Flags.boolean({char: 'f', description: 'kill a running container first; no error for missing ones'}),
    all: Flags.boolean({char: 'a', description: 'remove every container (as podman; running ones only with -f)'}),
    volumes: Flags.boolean({char: 'v', description: 'remove the anonymous volumes of the container too'}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Rm)
    if (argv.length === 0 && !flags.all) this.error('rm needs at least one container', {exit: 125})
    if (argv.length > 0 && flags.all) throw new UsageError('--all and container names cannot be used together')
    const ctx = await this.context(flags.config)
    const names = flags.all ? (await containers.list(ctx, {all: true})).map((c) => c.record.id) : (argv as string[])
    let failed: unknown
    for (const name of names) {
      try {
        await containers.remove(ctx, name, {force: flags.force, volumes: flags.volumes})
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
