import {loadConfig} from './config/load.js'
import type {CtrConfig} from './config/schema.js'
import {defaultRoot, defaultRunRoot, ensureDir, ensurePrivateDir, runLayout, storeLayout, type RunLayout, type StoreLayout} from './paths.js'

/** What every command works with: the effective configuration and where things live. */
export interface Context {
  config: CtrConfig
  configSources: string[]
  store: StoreLayout
  run: RunLayout
}

export async function createContext(opts: {configFile?: string} = {}): Promise<Context> {
  const {config, sources} = await loadConfig({file: opts.configFile})
  const root = config.storage.root ?? defaultRoot()
  const runRoot = config.storage.runRoot ?? defaultRunRoot()
  const store = storeLayout(root)
  const run = runLayout(runRoot)
  ensurePrivateDir(root, 'storage directory')
  ensurePrivateDir(runRoot)
  return {config, configSources: sources, store, run}
}
