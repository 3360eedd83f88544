import {flattenConfig, type CtrConfig} from './schema.js'
import type {LoadedConfig} from './load.js'

const SECRET_KEYS = /(^|\.)password$/

/** The configuration with secrets (registries.*.password) replaced, for printing. */
export function redactConfig(config: CtrConfig): CtrConfig {
  const registries: CtrConfig['registries'] = {}
  for (const [host, reg] of Object.entries(config.registries)) {
    registries[host] = reg.password !== undefined ? {...reg, password: '********'} : reg
  }
  return {...config, registries}
}

export interface ConfigLine {
  key: string
  value: unknown
  origin: string
}

/** One line per effective key (secrets redacted), with the source that set it. */
export function configLines(loaded: LoadedConfig): ConfigLine[] {
  return flattenConfig(redactConfig(loaded.config))
    .map(([key, value]) => ({key, value: SECRET_KEYS.test(key) && value !== undefined ? '********' : value, origin: loaded.origins[key] ?? 'default'}))
    .sort((a, b) => a.key.localeCompare(b.key))
}
