import {CtrCommand} from '../base-command.js'
import {containerPaths, findContainer} from '../container/record.js'
import {inspectLogConfig} from '../container/log-config.js'
import {containerStatus, publishedPorts} from '../container/status.js'

export default class Inspect extends CtrCommand {
  static override description = 'Show low-level information on containers as JSON'
  static override examples = ['<%= config.bin %> inspect web']
  static override strict = false

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(Inspect)
    if (argv.length === 0) this.error('inspect needs at least one container', {exit: 125})
    const ctx = await this.context(flags.config)
    const out = []
    for (const name of argv as string[]) {
      const rec = await findContainer(ctx, name)
      const s = containerStatus(ctx, rec)
      const paths = containerPaths(ctx, rec.id)
      // booleans the record left out (flags not given) are false, never missing
      out.push({
        Id: rec.id,
        Name: rec.name,
        Created: rec.created,
        Path: rec.args[0],
        Args: rec.args.slice(1),
        State: {
          Status: s.status,
          Running: s.running,
          Pid: s.running ? (s.containerPid ?? 0) : 0,
          ShimPid: s.running ? (s.shimPid ?? 0) : 0,
          ExitCode: s.exit?.exitCode ?? 0,
          StartedAt: s.startedAt ?? '',
          FinishedAt: s.exit?.finishedAt ?? '',
        },
        Image: rec.image,
        ImageName: rec.imageRef,
        LogPath: paths.log,
        Config: {
          Hostname: rec.hostname,
          User: rec.user,
          Env: rec.env,
          Cmd: rec.args,
          WorkingDir: rec.cwd,
          Tty: rec.tty === true,
          OpenStdin: rec.stdin === true,
          StopSignal: rec.stopSignal,
          Labels: rec.labels,
        },
        HostConfig: {
          AutoRemove: rec.autoRemove === true,
          Init: rec.init === true,
          ReadonlyRootfs: rec.readOnly === true,
          NetworkMode: rec.network,
          Runtime: rec.runtime,
          PortBindings: publishedPorts(ctx, rec, s),
          LogConfig: inspectLogConfig(rec.logConfig),
        },
        GraphDriver: {Name: 'fuse-overlayfs', Data: {LowerDir: rec.lowerDirs.join(':'), UpperDir: paths.upper, WorkDir: paths.work, MergedDir: paths.merged}},
      })
    }
    this.log(JSON.stringify(out, null, 2))
  }
}
