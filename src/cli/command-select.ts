// Which bundle runs a command line: bin/run.js imports this module before anything else, so it
// imports nothing itself (one small file; node:fs comes from process.getBuiltinModule).

/** What the build writes to dist/bundle/manifest/index.json. */
export interface CommandIndex {
  version: string
  /** every command id with its aliases */
  commands: Record<string, string[]>
  /**
   * The commands that have a bundle of their own (dist/bundle/fast/DIR/main.js: the CLI's
   * entry, oclif and that one command in a few files): id → DIR.
   */
  fast?: Record<string, string>
  /** `--help` and package.json's oclif.additionalHelpFlags */
  helpFlags?: string[]
}

/** The bundle and command chosen for a command line. */
export interface Selection {
  /** the index, when the build wrote one */
  index?: CommandIndex
  /** the command's id when argv names one of ours */
  id?: string
  /** dist/bundle/fast/DIR when that command has a bundle of its own and no help is asked for */
  fastDir?: string
}

/**
 * The id of the ctr-ts command `argv` names, when it is one of ours (`ids`, from the manifest):
 * the longest run of leading words that is an id, with oclif's space-separated topics (`image ls
 * -q` is image:ls). undefined for flags first (`--help`, `--version`), the plugins' commands
 * (`help`, `autocomplete`) and anything unknown.
 */
export function ownCommand(argv: readonly string[], ids: ReadonlySet<string>): string | undefined {
  const words: string[] = []
  for (const arg of argv) {
    if (arg.startsWith('-')) break
    words.push(arg)
  }
  for (let n = words.length; n > 0; n--) {
    const id = words.slice(0, n).join(':')
    if (ids.has(id)) return id
  }
  return undefined
}

/** oclif's own test (main.js helpAddition): a help flag before `--` shows help instead of running. */
export function asksForHelp(argv: readonly string[], helpFlags: readonly string[]): boolean {
  for (const arg of argv) {
    if (arg === '--') return false
    if (helpFlags.includes(arg)) return true
  }
  return false
}

/** Every id and alias of `index`. */
export function commandIds(index: CommandIndex): Set<string> {
  return new Set(Object.entries(index.commands).flatMap(([id, aliases]) => [id, ...aliases]))
}

/** The command id an id or alias `name` stands for. */
export function canonicalId(index: CommandIndex, name: string): string | undefined {
  if (Object.hasOwn(index.commands, name)) return name
  return Object.entries(index.commands).find(([, aliases]) => aliases.includes(name))?.[0]
}

/**
 * What runs `argv`: one of our commands with a bundle of its own runs from it unless a help flag
 * asks for help (help lists every command: the whole CLI's bundle does that); anything else runs
 * from the whole CLI's bundle (all of them when `fast` is false).
 */
export function selectCommand(argv: readonly string[], index: CommandIndex | undefined, fast = true): Selection {
  if (!index) return {}
  const own = ownCommand(argv, commandIds(index))
  const id = own === undefined ? undefined : canonicalId(index, own)
  const fastDir = fast && id !== undefined && !asksForHelp(argv, index.helpFlags ?? ['--help']) ? index.fast?.[id] : undefined
  return {index, id, fastDir}
}

/** dist/bundle/manifest/index.json under the package `root`, or undefined when the build wrote none. */
export function readCommandIndex(root: string): CommandIndex | undefined {
  try {
    const fs = process.getBuiltinModule('node:fs')
    return JSON.parse(fs.readFileSync(`${root}/dist/bundle/manifest/index.json`, 'utf8')) as CommandIndex
  } catch {
    return undefined
  }
}
