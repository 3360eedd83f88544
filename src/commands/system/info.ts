import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {humanSize} from '../../cli/table.js'
import {DOCKER_MAP_FIELDS, formatInspect} from '../../format/output.js'
import {dockerInfo} from '../../system/docker-info.js'
import {systemInfo} from '../../system/info.js'

export default class SystemInfo extends CtrCommand {
  static override summary = 'Show versions, the store location and size, and object counts'
  static override description =
    "Prints the versions of ctr-ts, node and the tools it drives (runc/crun, fuse-overlayfs, slirp4netns), where the store and the runtime state live, the store size, and how many images, containers and unpacked layers it holds. --format takes json or a Go template on docker's info fields ({{.Containers}}, {{.Images}}, {{.Driver}}, {{.DockerRootDir}}, {{.NCPU}} ...) and ctr-ts's (versions, store, runtime)."
  static override examples = [
    '<%= config.bin %> system info',
    '<%= config.bin %> system info --format json',
    "<%= config.bin %> system info --format '{{.ContainersRunning}} running, store {{.DockerRootDir}}'",
  ]
  static override flags = {
    format: Flags.string({char: 'f', description: 'output: text (default), json, or a Go template'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(SystemInfo)
    const ctx = await this.context(flags.config)
    const info = await systemInfo(ctx, this.config.version)
    if (flags.format === 'json') {
      this.log(JSON.stringify(dockerInfo(info), null, 2))
      return
    }
    if (flags.format !== undefined && flags.format !== 'text' && flags.format !== '') {
      process.stdout.write(formatInspect(flags.format, [dockerInfo(info)], new Set([...DOCKER_MAP_FIELDS, 'versions', 'Runtimes'])))
      return
    }
    const lines = [
      'Versions:',
      ...Object.entries(info.versions).map(([k, v]) => `  ${k}: ${v}`),
      `Runtime: ${info.runtime.name}${info.runtime.path ? ` (${info.runtime.path})` : ' (not found)'}`,
      `Store: ${info.store.root}`,
      `  Storage driver: ${info.store.driver}`,
      `  Size: ${humanSize(info.store.sizeBytes)}`,
      `Runtime state: ${info.store.runRoot}`,
      `Images: ${info.images}`,
      `Containers: ${info.containers.total} (running: ${info.containers.running}, stopped: ${info.containers.stopped})`,
      `Layers: ${info.layers}`,
      `Volumes: ${info.volumes}`,
      `Configuration: ${info.configSources.length ? info.configSources.join(', ') : 'defaults only'}`,
    ]
    this.log(lines.join('\n'))
  }
}
