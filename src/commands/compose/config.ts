import {Flags} from '@oclif/core'
import {writeFile} from 'node:fs/promises'
import {CtrCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'
import {composeFlags, composeLoadOptions, printComposeWarning} from '../../compose/model/flags.js'
import {composeVariables, loadProject} from '../../compose/model/load.js'
import {renderTable} from '../../cli/table.js'
import {projectJson, projectYaml} from '../../compose/model/serialize.js'

export default class ComposeConfig extends CtrCommand {
  static override description = 'Parse, resolve and render the compose files in canonical form (docker compose config)'
  static override aliases = ['compose:convert']
  static override examples = [
    '<%= config.bin %> compose config',
    '<%= config.bin %> compose -f compose.yaml -f compose.prod.yaml config --format json',
    '<%= config.bin %> compose config --services',
    '<%= config.bin %> compose config -q',
  ]
  static override flags = {
    ...composeFlags,
    format: Flags.string({description: 'yaml (default) or json', options: ['yaml', 'json']}),
    quiet: Flags.boolean({char: 'q', description: 'only validate the configuration, print nothing'}),
    services: Flags.boolean({description: 'print the service names, one per line'}),
    volumes: Flags.boolean({description: 'print the volume names, one per line'}),
    networks: Flags.boolean({description: 'print the network names, one per line'}),
    profiles: Flags.boolean({description: 'print the profile names, one per line'}),
    images: Flags.boolean({description: 'print the image names, one per line'}),
    variables: Flags.boolean({description: 'print the variables the files use, with their defaults (table, or --format json)'}),
    environment: Flags.boolean({description: 'print the environment used for interpolation (KEY=VALUE)'}),
    'no-interpolate': Flags.boolean({description: 'do not interpolate environment variables'}),
    output: Flags.string({char: 'o', description: 'write the model to this file instead of stdout'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(ComposeConfig)
    const listing = (['services', 'volumes', 'networks', 'profiles', 'images', 'variables', 'environment'] as const).filter((k) => flags[k])
    if (listing.length > 1) throw new UsageError(`--${listing[0]} and --${listing[1]} cannot be combined`)
    if (listing[0] === 'variables') {
      // Read from the files as written: no interpolation, so no variable is missing yet.
      const vars = await composeVariables(composeLoadOptions(flags))
      const text =
        flags.format === 'json'
          ? `${JSON.stringify(Object.fromEntries(vars.map((v) => [v.name, {Name: v.name, DefaultValue: v.defaultValue ?? '', AlternateValue: v.alternateValue ?? '', Required: v.required}])), null, 4)}\n`
          : `${renderTable(['NAME', 'REQUIRED', 'DEFAULT VALUE', 'ALTERNATE VALUE'], vars.map((v) => [v.name, String(v.required), v.defaultValue ?? '', v.alternateValue ?? '']))}\n`
      await this.emit(text, flags.output)
      return
    }
    const project = await loadProject({...composeLoadOptions(flags), interpolate: !flags['no-interpolate'], onWarning: printComposeWarning})
    if (flags.quiet) return
    let text: string
    switch (listing[0]) {
      case 'services':
        text = lines(Object.keys(project.services))
        break
      case 'volumes':
        text = lines(Object.keys(project.volumes))
        break
      case 'networks':
        text = lines(Object.keys(project.networks))
        break
      case 'profiles':
        text = lines([...new Set([...Object.values(project.services), ...Object.values(project.disabledServices)].flatMap((s) => s.profiles))].sort())
        break
      case 'images':
        text = lines(Object.values(project.services).map((s) => s.image ?? `${project.name}-${s.name}`))
        break
      case 'environment':
        text = lines(Object.keys(project.environment).sort().map((k) => `${k}=${project.environment[k]}`))
        break
      default:
        text = flags.format === 'json' ? projectJson(project) : projectYaml(project)
    }
    await this.emit(text, flags.output)
  }

  private async emit(text: string, output: string | undefined): Promise<void> {
    if (output) await writeFile(output, text)
    else process.stdout.write(text)
  }
}

function lines(items: readonly string[]): string {
  return items.map((i) => `${i}\n`).join('')
}
