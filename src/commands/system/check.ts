import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {PrerequisiteError} from '../../errors.js'
import {checksPassed, defaultCheckEnv, formatCheck, runChecks} from '../../system/checks.js'

export default class SystemCheck extends CtrCommand {
  static override summary = 'Check that this machine can run rootless containers'
  static override description = [
    'Checks every prerequisite, one line each, with the fix when something is wrong: user namespaces (sysctls and a real probe),',
    'newuidmap/newgidmap, /etc/subuid and /etc/subgid ranges, /dev/fuse and fuse-overlayfs, runc/crun, slirp4netns and /dev/net/tun,',
    'tini/catatonit, cgroup version and delegation, XDG_RUNTIME_DIR and the unprivileged port range.',
    'Exits non-zero when a required prerequisite is missing (FAIL); WARN lines are optional features.',
    'CTR_TS_SUBUID_FILE / CTR_TS_SUBGID_FILE check another file instead of /etc/subuid, /etc/subgid.',
  ].join('\n')
  static override examples = ['<%= config.bin %> system check', '<%= config.bin %> system check --format json']
  static override flags = {
    format: Flags.string({description: 'output format', options: ['text', 'json'], default: 'text'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SystemCheck)
    const ctx = await this.context(flags.config)
    const results = await runChecks(defaultCheckEnv(ctx.config))
    const ok = checksPassed(results)
    if (flags.format === 'json') this.log(JSON.stringify({ok, checks: results}, null, 2))
    else for (const r of results) this.log(formatCheck(r))
    if (!ok) {
      const failed = results.filter((r) => r.status === 'fail').map((r) => r.title)
      throw new PrerequisiteError(`missing required prerequisites: ${failed.join(', ')}`)
    }
  }
}
