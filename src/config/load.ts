import {existsSync, readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {basename, dirname, join, resolve} from 'node:path'
import {ConfigError} from '../errors.js'
import {type CtrConfig, defaultConfig, flattenConfig, mergeConfig, validateConfig} from './schema.js'

export interface LoadedConfig {
  config: CtrConfig
  /** Files (and "environment") that contributed, lowest precedence first. */
  sources: string[]
  /**
   * Where each effective value came from, by dotted key (`storage.root`,
   * `registries.docker.io.mirrors`): "default", a file path, or "env CTR_TS_ROOT".
   */
  origins: Record<string, string>
}

const MODULE = 'ctr-ts'

/** Environment variables that set one configuration key each (highest precedence). */
export const CONFIG_ENV_VARS: ReadonlyArray<{name: string; key: string}> = [
  {name: 'CTR_TS_ROOT', key: 'storage.root'},
  {name: 'CTR_TS_RUNROOT', key: 'storage.runRoot'},
  {name: 'CTR_TS_RUNTIME', key: 'runtime.name'},
  {name: 'CTR_TS_RUNTIME_PATH', key: 'runtime.path'},
  {name: 'CTR_TS_NETWORK', key: 'network.default'},
  {name: 'CTR_TS_PLATFORM', key: 'platform'},
  {name: 'CTR_TS_INIT_PATH', key: 'init.path'},
  {name: 'CTR_TS_STORAGE_DRIVER', key: 'rootfs.driver'},
]

/** File names looked for in the user configuration directory, in this order (the first found wins). */
export const USER_CONFIG_FILES = ['config.json', 'config.yaml', 'config.yml', 'config', 'config.js', 'config.mjs', 'config.cjs', 'config.ts']

/** The text of the merge order, for `ctr-ts config --help` (keep in sync with the doc comment of loadConfig). */
export const MERGE_ORDER_HELP = [
  '1. built-in defaults',
  '2. user file: $XDG_CONFIG_HOME/ctr-ts/config.{json,yaml,yml,js,mjs,cjs,ts} (~/.config/ctr-ts/...)',
  '3. project file, the first found from the working directory upward (up to $HOME, or / outside it):',
  '   package.json "ctr-ts" key, .ctr-tsrc (JSON or YAML), .ctr-tsrc.{json,yaml,yml,js,ts,mjs,cjs},',
  '   .config/ctr-tsrc*, ctr-ts.config.{js,ts,mjs,cjs}',
  '4. the file named by --config, or by $CTR_TS_CONFIG when --config is not given',
  `5. environment variables: ${CONFIG_ENV_VARS.map((v) => `${v.name} (${v.key})`).join(', ')}`,
  'Later sources override earlier ones key by key (objects such as registries merge).',
].join('\n')

export function userConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), MODULE)
}

function setPath(obj: Record<string, unknown>, key: string, value: unknown): void {
  const parts = key.split('.')
  let cur = obj
  for (const part of parts.slice(0, -1)) cur = (cur[part] ??= {}) as Record<string, unknown>
  cur[parts.at(-1)!] = value
}

/**
 * Loads the effective configuration. Merge order, lowest precedence first:
 *   1. built-in defaults (schema.ts defaultConfig);
 *   2. the user file: $XDG_CONFIG_HOME/ctr-ts/config.{json,yaml,yml,js,mjs,cjs,ts} (XDG_CONFIG_HOME
 *      defaults to ~/.config); the first name found is used;
 *   3. the project file found by cosmiconfig from the working directory upward (stopping at $HOME,
 *      or at / outside it): a "ctr-ts" key in package.json, .ctr-tsrc (JSON or YAML),
 *      .ctr-tsrc.{json,yaml,yml,js,ts,mjs,cjs}, .config/ctr-tsrc*, ctr-ts.config.{js,ts,mjs,cjs};
 *   4. the file named by --config (opts.file), else by $CTR_TS_CONFIG;
 *   5. environment variables (CONFIG_ENV_VARS: CTR_TS_ROOT, CTR_TS_RUNROOT, CTR_TS_RUNTIME,
 *      CTR_TS_RUNTIME_PATH, CTR_TS_NETWORK, CTR_TS_PLATFORM, CTR_TS_INIT_PATH, CTR_TS_STORAGE_DRIVER).
 * Objects merge key by key; anything else is replaced. Every source is validated on its own: an
 * unknown key or a wrong type is a ConfigError naming the source, the key and what was expected.
 */
export async function loadConfig(opts: {cwd?: string; file?: string; env?: NodeJS.ProcessEnv} = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env
  const home = env.HOME || homedir()
  const cwd = opts.cwd ?? process.cwd()
  // cosmiconfig is loaded and made only when a file needs it: making its explorer searches for its
  // own meta configuration (reading package.json files), 10 ms of every command (issue 12).
  let explorerMade: Awaited<ReturnType<typeof makeExplorer>> | undefined
  const explorer = async () => (explorerMade ??= await makeExplorer(home))
  let config = defaultConfig()
  const sources: string[] = []
  const origins: Record<string, string> = {}
  for (const [key] of flattenConfig(config)) origins[key] = 'default'

  const apply = (raw: unknown, source: string) => {
    const valid = validateConfig(raw, source)
    config = mergeConfig(config, valid)
    if (!sources.includes(source)) sources.push(source)
    for (const [key] of flattenConfig(valid)) origins[key] = source
  }
  const loadFile = async (file: string) => {
    // JSON, the usual case, without cosmiconfig (which still reports a file that does not parse)
    if (file.endsWith('.json') && basename(file) !== 'package.json') {
      const parsed = readJson(file)
      if (parsed.ok) {
        if (parsed.value !== undefined) apply(parsed.value, file)
        return
      }
    }
    try {
      const result = await (await explorer()).load(file)
      if (result && !result.isEmpty) apply(result.config, result.filepath)
    } catch (err) {
      if (err instanceof ConfigError) throw err
      throw new ConfigError(`${file}: ${firstLine(err)}`)
    }
  }

  const userDir = userConfigDir(env)
  for (const name of USER_CONFIG_FILES) {
    const file = join(userDir, name)
    if (existsSync(file)) {
      await loadFile(file)
      break
    }
  }

  // cosmiconfig's "global" strategy ends with its own look at the user directory (from
  // process.env): that one is ours to load (above, from `env`), so a hit there is ignored.
  const globalDirs = new Set([userDir, join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), MODULE)])
  try {
    const found = mayFindProjectConfig(cwd, home) ? await (await explorer()).search(cwd) : null
    if (found && !found.isEmpty && !globalDirs.has(dirname(found.filepath)) && !sources.includes(found.filepath)) {
      apply(found.config, found.filepath)
    }
  } catch (err) {
    if (err instanceof ConfigError) throw err
    const file = (err as {filepath?: string}).filepath
    throw new ConfigError(`${file ?? 'configuration'}: ${firstLine(err)}`)
  }

  const explicit = opts.file ?? env.CTR_TS_CONFIG
  if (explicit) {
    const file = resolve(cwd, explicit)
    if (!existsSync(file)) throw new ConfigError(`${explicit}: configuration file not found`)
    await loadFile(file)
  }

  for (const {name, key} of CONFIG_ENV_VARS) {
    const value = env[name]
    if (value === undefined || value === '') continue
    const raw: Record<string, unknown> = {}
    setPath(raw, key, value)
    const source = `env ${name}`
    config = mergeConfig(config, validateConfig(raw, `environment variable ${name}`))
    origins[key] = source
    if (!sources.includes('environment')) sources.push('environment')
  }

  return {config, sources, origins}
}

function firstLine(err: unknown): string {
  return ((err as Error)?.message ?? String(err)).split('\n')[0] ?? String(err)
}

async function makeExplorer(home: string) {
  // a CommonJS package: in the bundle its exports are the default export of the lazy chunk
  const mod: typeof import('cosmiconfig') & {default?: typeof import('cosmiconfig')} = await import('cosmiconfig')
  const {cosmiconfig} = mod.default ?? mod
  return cosmiconfig(MODULE, {searchStrategy: 'global', stopDir: home, cache: false})
}

/** A JSON file's value (undefined when it is empty, as cosmiconfig skips empty files); not ok when it does not parse. */
function readJson(file: string): {ok: true; value: unknown} | {ok: false} {
  try {
    const text = readFileSync(file, 'utf8')
    return {ok: true, value: text.trim() === '' ? undefined : (JSON.parse(text) as unknown)}
  } catch {
    return {ok: false}
  }
}

/** cosmiconfig's search places for `ctr-ts` (getDefaultSearchPlaces; a unit test keeps them equal). */
export const PROJECT_SEARCH_PLACES = [
  'package.json',
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].flatMap((ext) => [`.${MODULE}rc${ext}`]),
  ...['', '.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((ext) => `.config/${MODULE}rc${ext}`),
  ...['.js', '.ts', '.cjs', '.mjs'].map((ext) => `${MODULE}.config${ext}`),
]

/** Where cosmiconfig looks for its own meta configuration, in the working directory only (metaSearchPlaces). */
export const META_SEARCH_PLACES = [
  'package.json',
  'package.yaml',
  ...['.json', '.yaml', '.yml', '.js', '.ts', '.cjs', '.mjs'].map((ext) => `.config/config${ext}`),
]

/** Whether package.json at `file` has the property `key` (true when it cannot be parsed: cosmiconfig then says why). */
function packageHas(file: string, key: string): boolean {
  if (!existsSync(file)) return false
  const parsed = readJson(file)
  if (!parsed.ok) return true
  const v = parsed.value
  return typeof v === 'object' && v !== null && Object.hasOwn(v, key)
}

/**
 * False when cosmiconfig's search from `cwd` up to `stopDir` (or /) cannot find anything: none of
 * its places exists (a package.json only counts with a "ctr-ts" key), and there is no meta
 * configuration of cosmiconfig's own in `cwd`. True means: search (cosmiconfig decides).
 */
export function mayFindProjectConfig(cwd: string, stopDir: string): boolean {
  const start = resolve(cwd)
  for (const place of META_SEARCH_PLACES) {
    const file = join(start, place)
    if (place === 'package.json' ? packageHas(file, 'cosmiconfig') : existsSync(file)) return true
  }
  const stop = resolve(stopDir)
  for (let dir = start; ; ) {
    for (const place of PROJECT_SEARCH_PLACES) {
      const file = join(dir, place)
      if (place === 'package.json' ? packageHas(file, MODULE) : existsSync(file)) return true
    }
    const parent = dirname(dir)
    if (dir === stop || parent === dir) return false
    dir = parent
  }
}

