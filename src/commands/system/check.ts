import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {IntegrityError, PrerequisiteError, UsageError} from '../../errors.js'
import {checksPassed, defaultCheckEnv, formatCheck, runChecks} from '../../system/checks.js'
import {checkStore, formatStoreReport} from '../../system/store-check.js'

export default class SystemCheck extends CtrCommand {
  static override summary = 'Check that this machine can run rootless containers, or (--store) that the store is sound'
  static override description = [
    'Checks every prerequisite, one line each, with the fix when something is wrong: user namespaces (sysctls and a real probe),',
    'newuidmap/newgidmap, /etc/subuid and /etc/subgid ranges, /dev/fuse and fuse-overlayfs, runc/crun, slirp4netns and /dev/net/tun,',
    'tini/catatonit, cgroup version and delegation, XDG_RUNTIME_DIR and the unprivileged port range.',
    'Exits non-zero when a required prerequisite is missing (FAIL); WARN lines are optional features.',
    'CTR_TS_SUBUID_FILE / CTR_TS_SUBGID_FILE check another file instead of /etc/subuid, /etc/subgid.',
    '',
    'With --store, checks the store instead: every blob against its digest, every unpacked layer\'s completeness marker,',
    'every image and container record\'s references, and leftovers of killed commands. Exits non-zero when something is wrong.',
    'With --repair, removes what is broken (corrupt blobs, incomplete layers, image records with a broken reference, leftovers)',
    'so that the next pull fetches it again; layers a container uses are left (remove the container first).',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> system check',
    '<%= config.bin %> system check --format json',
    '<%= config.bin %> system check --store',
    '<%= config.bin %> system check --store --repair',
  ]
  static override flags = {
    format: Flags.string({description: 'output format', options: ['text', 'json'], default: 'text'}),
    store: Flags.boolean({description: 'check the store (blobs, layers, records) instead of the machine'}),
    repair: Flags.boolean({description: 'with --store: remove what is broken so the next pull fetches it again'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SystemCheck)
    if (flags.repair && !flags.store) throw new UsageError('--repair needs --store')
    const ctx = await this.context(flags.config)
    if (flags.store) {
      const report = await checkStore(ctx, {repair: flags.repair})
      if (flags.format === 'json') this.log(JSON.stringify(report, null, 2))
      else for (const line of formatStoreReport(report)) this.log(line)
      const left = report.issues.filter((i) => i.repaired !== true).length
      if (left > 0) {
        throw new IntegrityError(
          flags.repair
            ? `the store has ${left} problem(s) that could not be repaired`
            : `the store has ${left} problem(s): run ctr-ts system check --store --repair`,
        )
      }
      return
    }
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
