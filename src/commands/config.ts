import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {renderTable} from '../cli/table.js'
import {loadConfig, MERGE_ORDER_HELP} from '../config/load.js'
import {CONFIG_KEY_HELP} from '../config/schema.js'
import {configLines, redactConfig} from '../config/show.js'
import {defaultRoot, defaultRunRoot} from '../paths.js'

export default class Config extends CtrCommand {
  static override summary = 'Print the effective configuration and where each value came from'
  static override description = [
    'Prints every configuration key with its effective value and its origin: "default", the file that set it, or the environment variable. Registry passwords are never printed.',
    '',
    'MERGE ORDER (later sources override earlier ones):',
    MERGE_ORDER_HELP,
    '',
    'KEYS:',
    ...CONFIG_KEY_HELP.map(([k, what]) => `  ${k}: ${what}`),
  ].join('\n')
  static override examples = [
    '<%= config.bin %> config',
    '<%= config.bin %> config --format json',
    '<%= config.bin %> config --config ./ci.ctr-tsrc.json',
    'CTR_TS_RUNTIME=crun <%= config.bin %> config',
  ]
  static override flags = {
    format: Flags.string({description: 'output format', options: ['table', 'json'], default: 'table'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Config)
    const loaded = await loadConfig({file: flags.config})
    if (flags.format === 'json') {
      this.log(JSON.stringify({config: redactConfig(loaded.config), origins: loaded.origins, sources: loaded.sources}, null, 2))
      return
    }
    const lines = configLines(loaded)
    // The store locations are always shown: when no source sets them, their computed defaults.
    if (!lines.some((l) => l.key === 'storage.root')) lines.push({key: 'storage.root', value: defaultRoot(), origin: 'default ($XDG_DATA_HOME/ctr-ts)'})
    if (!lines.some((l) => l.key === 'storage.runRoot')) lines.push({key: 'storage.runRoot', value: defaultRunRoot(), origin: 'default ($XDG_RUNTIME_DIR/ctr-ts)'})
    lines.sort((a, b) => a.key.localeCompare(b.key))
    this.log(renderTable(['KEY', 'VALUE', 'ORIGIN'], lines.map((l) => [l.key, JSON.stringify(l.value), l.origin])))
  }
}
