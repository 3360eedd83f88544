import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {COMPOSE_IMAGES_FORMAT, ComposeImageRow, type ImageRowData} from '../../cli/compose-rows.js'
import {composeFlags, loadComposeProject} from '../../cli/compose.js'
import {humanSize} from '../../cli/table.js'
import {serviceOrder} from '../../compose/project/order.js'
import {projectContainers} from '../../compose/project/state.js'
import * as images from '../../engine/images.js'
import {formatOutput} from '../../format/output.js'

export default class ComposeImages extends CtrCommand {
  static override description = "The images a compose project's containers run"
  static override examples = ['<%= config.bin %> compose images', '<%= config.bin %> compose images -q', '<%= config.bin %> compose images --format json']
  static override strict = false
  static override args = {services: Args.string({description: 'only these services (default: all)'})}
  static override flags = {
    ...composeFlags,
    quiet: Flags.boolean({char: 'q', description: 'only the image ids'}),
    format: Flags.string({description: "table, json, 'table TEMPLATE' or a Go template"}),
  }

  async run(): Promise<void> {
    const {flags, argv} = await this.parse(ComposeImages)
    const project = await loadComposeProject(flags)
    serviceOrder(project, argv as string[], {noDeps: true})
    const ctx = await this.context(flags.config)
    const rows: ImageRowData[] = []
    for (const c of await projectContainers(ctx, project.name, {all: true, services: argv as string[]})) {
      const rec = c.summary.record
      const id = rec.image.replace(/^sha256:/, '').slice(0, 12)
      let size = ''
      try {
        size = humanSize((await images.getImage(ctx, rec.image)).size)
      } catch {
        // removed since: the row still names it
      }
      const ref = rec.imageRef
      const at = ref.lastIndexOf(':')
      const slash = ref.lastIndexOf('/')
      const [repository, tag] = at > slash ? [ref.slice(0, at), ref.slice(at + 1)] : [ref, 'latest']
      rows.push({container: c.name, repository, tag, id, size})
    }
    if (flags.quiet) {
      for (const id of new Set(rows.map((r) => r.id))) this.log(id)
      return
    }
    process.stdout.write(formatOutput(flags.format, rows.map((r) => new ComposeImageRow(r)), COMPOSE_IMAGES_FORMAT))
  }
}
