import {cosmiconfig} from 'cosmiconfig'
import {existsSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import {ConfigError} from '../errors.js'
import {type CtrConfig, defaultConfig, mergeConfig, validateConfig} from './schema.js'

export interface LoadedConfig {
  config: CtrConfig
  /** Files that contributed, lowest precedence first. */
  sources: string[]
}

const MODULE = 'ctr-ts'

/**
 * Merge order, lowest first: built-in defaults; the user file
 * ($XDG_CONFIG_HOME/ctr-ts/config.{json,yaml,yml,js,mjs,cjs}); the project file found by
 * cosmiconfig from the working directory upward (package.json "ctr-ts" key, .ctr-tsrc,
 * ctr-ts.config.*); the file named by --config or CTR_TS_CONFIG; environment variables
 * (CTR_TS_ROOT, CTR_TS_RUNROOT, CTR_TS_RUNTIME, CTR_TS_NETWORK, CTR_TS_PLATFORM).
 */
export async function loadConfig(opts: {cwd?: string; file?: string; env?: NodeJS.ProcessEnv} = {}): Promise<LoadedConfig> {
  const env = opts.env ?? process.env
  const explorer = cosmiconfig(MODULE, {searchStrategy: 'global', cache: false})
  let config = defaultConfig()
  const sources: string[] = []

  const apply = (raw: unknown, source: string) => {
    config = mergeConfig(config, validateConfig(raw, source))
    sources.push(source)
  }
  const loadFile = async (file: string) => {
    try {
      const result = await explorer.load(file)
      if (result && !result.isEmpty) apply(result.config, result.filepath)
    } catch (err) {
      if (err instanceof ConfigError) throw err
      throw new ConfigError(`${file}: ${(err as Error).message.split('\n')[0]}`)
    }
  }

  const userDir = join(env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config'), MODULE)
  for (const name of ['config.json', 'config.yaml', 'config.yml', 'config.js', 'config.mjs', 'config.cjs']) {
    const file = join(userDir, name)
    if (existsSync(file)) {
      await loadFile(file)
      break
    }
  }

  try {
    const found = await explorer.search(opts.cwd ?? process.cwd())
    if (found && !found.isEmpty && !sources.includes(found.filepath)) apply(found.config, found.filepath)
  } catch (err) {
    if (err instanceof ConfigError) throw err
    throw new ConfigError(`configuration: ${(err as Error).message.split('\n')[0]}`)
  }

  const explicit = opts.file ?? env.CTR_TS_CONFIG
  if (explicit) {
    if (!existsSync(explicit)) throw new ConfigError(`${explicit}: configuration file not found`)
    await loadFile(explicit)
  }

  const fromEnv: Record<string, unknown> = {}
  if (env.CTR_TS_ROOT) fromEnv.storage = {root: env.CTR_TS_ROOT}
  if (env.CTR_TS_RUNROOT) fromEnv.storage = {...(fromEnv.storage as object), runRoot: env.CTR_TS_RUNROOT}
  if (env.CTR_TS_RUNTIME) fromEnv.runtime = {name: env.CTR_TS_RUNTIME}
  if (env.CTR_TS_NETWORK) fromEnv.network = {default: env.CTR_TS_NETWORK}
  if (env.CTR_TS_PLATFORM) fromEnv.platform = env.CTR_TS_PLATFORM
  if (Object.keys(fromEnv).length > 0) apply(fromEnv, 'environment')

  return {config, sources}
}
