import {execute, Plugin} from '@oclif/core'
import type {Command, Interfaces} from '@oclif/core'
import {setLogger} from '@oclif/core/logger'
import {readFileSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {trace} from '../trace.js'
import {asksForHelp, canonicalId, commandIds, ownCommand, readCommandIndex} from './command-select.js'
import type {CommandIndex} from './command-select.js'
import {hoistComposeFlags} from './compose-argv.js'

export {asksForHelp, ownCommand} from './command-select.js'

/** Commands of oclif's plugins (help, autocomplete): theirs to handle. */
const PLUGIN_COMMANDS = new Set(['help', 'autocomplete'])

/**
 * The words of an unknown command `argv` starts with (docker's `'x' is not a docker command`),
 * kept as typed (an argument such as `a:b` is not split); undefined when argv names one of our
 * commands, a topic alone (its help), a plugin's command, or starts with a flag.
 */
export function unknownCommand(argv: readonly string[], ids: ReadonlySet<string>): string | undefined {
  if (argv.length === 0 || argv[0]!.startsWith('-') || PLUGIN_COMMANDS.has(argv[0]!)) return undefined
  const topics = new Set([...ids].flatMap((id) => id.split(':').slice(0, -1).map((_, i, parts) => parts.slice(0, i + 1).join(':'))))
  const words: string[] = []
  for (const arg of argv) {
    if (arg.startsWith('-')) break
    words.push(arg)
    const id = words.join(':')
    if (ids.has(id)) return undefined
    if (!topics.has(id)) return words.join(' ')
  }
  return undefined
}

/** oclif's logger when DEBUG is not set: its default one loads the `debug` package only to print nothing. */
function silentLogger(namespace = 'oclif'): Interfaces.Logger {
  const nothing = () => {}
  return {namespace, child: (ns: string) => silentLogger(`${namespace}:${ns}`), debug: nothing, error: nothing, info: nothing, trace: nothing, warn: nothing}
}

/**
 * The root plugin holding the one command `id` (its manifest entry from dist/bundle/manifest/):
 * oclif then neither reads the 200 KB manifest of all commands nor registers 80 commands and
 * their topics to run one. The plugin is oclif's own; only the source of its manifest differs.
 */
async function oneCommandPlugin(root: string, pjson: Interfaces.PJSON, manifestDir: string, index: CommandIndex, id: string, command?: Command.Class): Promise<Plugin> {
  const entry = JSON.parse(readFileSync(join(manifestDir, `${id}.json`), 'utf8')) as Interfaces.Manifest['commands'][string]
  const plugin = new Plugin({root, pjson, isRoot: true, type: 'core'})
  const internals = plugin as unknown as {
    _manifest(): Promise<Interfaces.Manifest>
    commandIDs: string[]
    hasManifest: boolean
    findCommand(id: string): Promise<Command.Class>
  }
  internals._manifest = async () => {
    internals.commandIDs = [id]
    internals.hasManifest = true
    return {version: index.version, commands: {[id]: entry}}
  }
  if (command) {
    // the command's own bundle holds its class: what oclif's findCommand sets on a class it imports
    const loaded = command as Command.Class & {plugin?: Plugin; isESM?: boolean; relativePath?: string[]}
    internals.findCommand = async () => {
      loaded.id = id
      loaded.plugin = plugin
      loaded.isESM = true
      loaded.relativePath = entry.relativePath
      return loaded
    }
  }
  await plugin.load()
  return plugin
}

/**
 * What bin/run.js read and loaded (src/cli/command-select.ts): the command index, and for a
 * command with a bundle of its own (dist/bundle/fast/), that command's id and class.
 */
export interface LaunchPlan {
  index?: CommandIndex
  id?: string
  command?: Command.Class
}

/**
 * Runs the CLI (`bin`: the URL of bin/run.js) with oclif, minus the work a command does not need:
 * - our package.json is read once, synchronously, and handed to oclif;
 * - oclif loads its plugins (help, autocomplete, not-found) before it looks at argv: finding each
 *   package, reading its package.json and manifest. Our own commands need none of them (their only
 *   hooks are for `plugins install` and unknown commands), so oclif gets the root plugin alone;
 *   anything else (`--help`, `help`, `autocomplete`, typos) loads all of them as usual;
 * - one of our commands without a help flag: the root plugin holds that command alone (the
 *   command index and its manifest entry, written by scripts/build.mjs), not all of them;
 * - without DEBUG, a logger that prints nothing (oclif's default loads the `debug` package);
 * - `plan`: bin/run.js loaded the command's own bundle, which holds its class: nothing is imported.
 */
export async function launch(bin: string, given: string[] = process.argv.slice(2), plan?: LaunchPlan): Promise<unknown> {
  const argv = hoistComposeFlags(given)
  const root = dirname(dirname(fileURLToPath(bin)))
  const logger = process.env.DEBUG ? undefined : silentLogger()
  if (logger) setLogger({root, logger})
  const pjson = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Interfaces.PJSON
  const manifestDir = join(root, 'dist', 'bundle', 'manifest')
  const index = plan ? plan.index : readCommandIndex(root)
  let plugin: Plugin | undefined
  let ids: Set<string>
  if (index) {
    ids = commandIds(index)
  } else {
    plugin = await trace.phase('oclif: root plugin and manifest', () => allCommandsPlugin(root, pjson))
    ids = new Set(plugin.commands.flatMap((c) => [c.id, ...(c.aliases ?? [])]))
  }
  const ownId = ownCommand(argv, ids)
  const own = ownId !== undefined
  const unknown = own ? undefined : unknownCommand(argv, ids)
  if (unknown !== undefined) {
    // docker's words and exit code; oclif's not-found plugin would split arguments at ':'
    process.stderr.write(`${pjson.oclif?.bin ?? 'ctr-ts'}: '${unknown}' is not a ctr-ts command.\nSee '${pjson.oclif?.bin ?? 'ctr-ts'} --help'\n`)
    process.exitCode = 1
    return undefined
  }
  if (own && !plugin) {
    const helpFlags = ['--help', ...(pjson.oclif?.additionalHelpFlags ?? [])]
    const id = index && !asksForHelp(argv, helpFlags) ? canonicalId(index, ownId) : undefined
    const command = plan?.id !== undefined && plan.id === id ? plan.command : undefined
    plugin = await trace.phase('oclif: root plugin and manifest', () =>
      id && index ? oneCommandPlugin(root, pjson, manifestDir, index, id, command) : allCommandsPlugin(root, pjson))
  }
  return execute({dir: bin, args: argv, loadOptions: {root, pjson, logger, ...(own && plugin ? {plugins: new Map([[plugin.name, plugin]])} : {})}})
}

/** The root plugin with every command, from oclif.manifest.json. */
async function allCommandsPlugin(root: string, pjson: Interfaces.PJSON): Promise<Plugin> {
  const p = new Plugin({root, pjson, isRoot: true, type: 'core'})
  await p.load()
  return p
}
