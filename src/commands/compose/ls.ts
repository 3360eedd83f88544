import {Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import {COMPOSE_LS_FORMAT, ComposeLsRow} from '../../cli/compose-rows.js'
import {composeFlags} from '../../cli/compose.js'
import {listProjects} from '../../compose/project/state.js'
import {formatOutput} from '../../format/output.js'

export default class ComposeLs extends CtrCommand {
  static override description = 'List compose projects (found by the labels of their containers)'
  static override examples = ['<%= config.bin %> compose ls', '<%= config.bin %> compose ls -a --format json', '<%= config.bin %> compose ls -q']
  static override flags = {
    // accepted (`compose -p x ls`) and ignored, as docker compose does
    ...composeFlags,
    all: Flags.boolean({char: 'a', description: 'projects whose containers are all stopped too'}),
    quiet: Flags.boolean({char: 'q', description: 'only the project names'}),
    format: Flags.string({description: "table, json, 'table TEMPLATE' or a Go template"}),
    filter: Flags.string({description: 'name=NAME: only projects whose name contains NAME', multiple: true, multipleNonGreedy: true}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ComposeLs)
    const ctx = await this.context(flags.config)
    const names = (flags.filter ?? []).map((f) => (f.startsWith('name=') ? f.slice(5) : f))
    const projects = (await listProjects(ctx, flags.all)).filter((p) => names.length === 0 || names.some((n) => p.name.includes(n)))
    if (flags.quiet) {
      for (const p of projects) this.log(p.name)
      return
    }
    // docker compose ls --format json prints one JSON array
    if (flags.format === 'json') {
      this.log(JSON.stringify(projects.map((p) => new ComposeLsRow(p).toJSON())))
      return
    }
    process.stdout.write(formatOutput(flags.format, projects.map((p) => new ComposeLsRow(p)), COMPOSE_LS_FORMAT))
  }
}
