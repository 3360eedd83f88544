import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import * as containers from '../../engine/containers.js'
import {ExitCodeSignal} from '../../errors.js'

export default class HealthcheckRun extends CtrCommand {
  static override summary = "Run a container's healthcheck now"
  static override description = [
    "Runs the container's healthcheck once, at once, in the container (by its shim, like a scheduled check) and records",
    'the result in State.Health. Exits 0 when the check succeeded, 1 when it failed (printing "unhealthy"), 125 on an',
    'error (no such container, no healthcheck defined, not running), as podman does.',
  ].join('\n')
  static override examples = ['<%= config.bin %> healthcheck run web', '<%= config.bin %> healthcheck run --ignore-result web']
  static override args = {container: Args.string({description: 'container name or id', required: true})}
  static override flags = {
    'ignore-result': Flags.boolean({description: 'exit 0 whatever the result of the check (errors still fail)'}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(HealthcheckRun)
    const ctx = await this.context(flags.config)
    const result = await containers.healthcheck(ctx, args.container)
    if (result.exitCode === 0 || flags['ignore-result']) return
    this.log(result.status === 'starting' ? 'starting' : 'unhealthy')
    throw new ExitCodeSignal(1)
  }
}
