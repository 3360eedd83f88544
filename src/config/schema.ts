import {parseByteSize} from './sizes.js'
import {ConfigError} from '../errors.js'

/** Per-registry settings, keyed by registry host (docker.io, localhost:5000, ...). */
export interface RegistryConfig {
  /** Endpoints tried in order before the registry itself, e.g. "http://127.0.0.1:5000". */
  mirrors?: string[]
  /** Allow plain HTTP and unverified TLS for this registry. */
  insecure?: boolean
  /** PEM file with extra CA certificates for this registry. */
  ca?: string
  /** docker-credential-<name> helper for this registry. */
  credHelper?: string
  username?: string
  password?: string
}

export interface CtrConfig {
  storage: {root?: string; runRoot?: string}
  runtime: {name: 'runc' | 'crun'; path?: string}
  network: {default: 'slirp4netns' | 'none' | 'host'; allowHostLoopback: boolean}
  registries: Record<string, RegistryConfig>
  /** Default platform, e.g. linux/arm64. */
  platform?: string
  /** Defaults for new containers' log rotation (--log-opt max-size / max-file). */
  logs: {maxSize?: number | string; maxFiles?: number}
  portProxy: {udpIdleTimeout: number}
  init: {path?: string}
  /**
   * Storage driver for new containers' root filesystems: fuse-overlayfs (the default), or
   * `overlay`, the kernel's own overlayfs mounted in the user namespace (Linux 5.11+, userxattr).
   * A container keeps the driver it was created with.
   */
  rootfs: {driver: 'fuse-overlayfs' | 'overlay'}
  /**
   * Defaults of `--security-opt`: the seccomp profile (default, unconfined or an absolute path
   * of a docker-format profile) and no-new-privileges.
   */
  security: {seccompProfile: string; noNewPrivileges: boolean}
}

export function defaultConfig(): CtrConfig {
  return {
    storage: {},
    runtime: {name: 'runc'},
    network: {default: 'slirp4netns', allowHostLoopback: false},
    registries: {},
    logs: {},
    portProxy: {udpIdleTimeout: 60},
    init: {},
    rootfs: {driver: 'fuse-overlayfs'},
    security: {seccompProfile: 'default', noNewPrivileges: false},
  }
}

type Check = (value: unknown) => string | undefined
const isString: Check = (v) => (typeof v === 'string' ? undefined : 'a string')
const isBool: Check = (v) => (typeof v === 'boolean' ? undefined : 'true or false')
const isLogSize: Check = (v) =>
  (typeof v === 'number' && Number.isSafeInteger(v) && v > 0) || (typeof v === 'string' && parseByteSize(v) !== undefined)
    ? undefined
    : 'a size in bytes, or a string with a unit k, m, g (e.g. "10m")'
/** The most log files a container keeps (ctr.log and 99 rotated ones): the shim's limit too. */
export const LOG_FILES_MAX = 100
const isLogFileCount: Check = (v) =>
  typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= LOG_FILES_MAX ? undefined : `a whole number from 1 to ${LOG_FILES_MAX}`
const isPositiveNumber: Check = (v) => (typeof v === 'number' && v > 0 ? undefined : 'a positive number')
const oneOf =
  (...values: string[]): Check =>
  (v) =>
    typeof v === 'string' && values.includes(v) ? undefined : `one of ${values.join(', ')}`
const isStringArray: Check = (v) =>
  Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'a list of strings'
const isAbsolutePath: Check = (v) => (typeof v === 'string' && v.startsWith('/') ? undefined : 'an absolute path')
const isPlatform: Check = (v) =>
  typeof v === 'string' && /^[a-z0-9]+\/[a-z0-9_]+(\/[a-z0-9]+)?$/.test(v) ? undefined : 'a platform like linux/amd64 or linux/arm64/v8'
const isHelperName: Check = (v) =>
  typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(v) ? undefined : 'a credential helper name (docker-credential-NAME)'

const registryKeys: Record<string, Check> = {
  mirrors: isStringArray,
  insecure: isBool,
  ca: isAbsolutePath,
  credHelper: isHelperName,
  username: isString,
  password: isString,
}

const sections: Record<string, Record<string, Check> | Check> = {
  storage: {root: isAbsolutePath, runRoot: isAbsolutePath},
  runtime: {name: oneOf('runc', 'crun'), path: isString},
  network: {default: oneOf('slirp4netns', 'none', 'host'), allowHostLoopback: isBool},
  platform: isPlatform,
  logs: {maxSize: isLogSize, maxFiles: isLogFileCount},
  portProxy: {udpIdleTimeout: isPositiveNumber},
  init: {path: isAbsolutePath},
  rootfs: {driver: oneOf('fuse-overlayfs', 'overlay')},
  security: {
    seccompProfile: (v) => (v === 'default' || v === 'unconfined' || (typeof v === 'string' && v.startsWith('/')) ? undefined : 'default, unconfined or an absolute path'),
    noNewPrivileges: isBool,
  },
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

/**
 * Validates one configuration source. An unknown key or a wrong type is one ConfigError naming
 * the file, the key and what was expected.
 */
export function validateConfig(raw: unknown, source: string): Partial<CtrConfig> {
  const fail = (key: string, expected: string): never => {
    throw new ConfigError(`${source}: ${key}: expected ${expected}`)
  }
  if (!isObject(raw)) fail('(top level)', 'an object')
  const obj = raw as Record<string, unknown>
  for (const [key, value] of Object.entries(obj)) {
    if (key === 'registries') {
      if (!isObject(value)) fail('registries', 'an object keyed by registry host')
      for (const [host, reg] of Object.entries(value as Record<string, unknown>)) {
        if (!isObject(reg)) fail(`registries.${host}`, 'an object')
        for (const [k, v] of Object.entries(reg as Record<string, unknown>)) {
          const check = registryKeys[k]
          if (!check) fail(`registries.${host}.${k}`, `one of the keys ${Object.keys(registryKeys).join(', ')}`)
          const problem = check!(v)
          if (problem) fail(`registries.${host}.${k}`, problem)
        }
      }
      continue
    }
    const section = sections[key]
    if (!section) fail(key, `one of the keys ${['registries', ...Object.keys(sections)].join(', ')}`)
    if (typeof section === 'function') {
      const problem = section(value)
      if (problem) fail(key, problem)
      continue
    }
    if (!isObject(value)) fail(key, 'an object')
    for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
      const check = (section as Record<string, Check>)[k]
      if (!check) fail(`${key}.${k}`, `one of the keys ${Object.keys(section as object).join(', ')}`)
      const problem = check!(v)
      if (problem) fail(`${key}.${k}`, problem)
    }
  }
  return obj as Partial<CtrConfig>
}

/** Deep-merges `over` onto `base` (objects merge, everything else replaces). */
export function mergeConfig<T>(base: T, over: unknown): T {
  if (!isObject(base) || !isObject(over)) return (over === undefined ? base : over) as T
  const out: Record<string, unknown> = {...base}
  for (const [k, v] of Object.entries(over)) out[k] = k in out ? mergeConfig(out[k], v) : v
  return out as T
}

/**
 * The leaves of a configuration object as dotted keys (`storage.root`, `registries.docker.io.mirrors`):
 * objects recurse, everything else (arrays included) is a leaf. Used to record where each value came from.
 */
export function flattenConfig(value: unknown, prefix = ''): Array<[string, unknown]> {
  if (!isObject(value)) return prefix ? [[prefix, value]] : []
  const out: Array<[string, unknown]> = []
  for (const [k, v] of Object.entries(value)) {
    const key = prefix ? `${prefix}.${k}` : k
    if (isObject(v) && Object.keys(v).length > 0) out.push(...flattenConfig(v, key))
    else if (!isObject(v)) out.push([key, v])
  }
  return out
}

/** One line per key for help texts: the key and what it expects. */
export const CONFIG_KEY_HELP: ReadonlyArray<[string, string]> = [
  ['storage.root', 'absolute path of the image/container store (default $XDG_DATA_HOME/ctr-ts)'],
  ['storage.runRoot', 'absolute path of runtime state (default $XDG_RUNTIME_DIR/ctr-ts)'],
  ['runtime.name', 'runc or crun'],
  ['runtime.path', 'path of the runtime binary'],
  ['network.default', 'slirp4netns, none or host'],
  ['network.allowHostLoopback', 'true or false'],
  ['registries.HOST.mirrors', 'list of mirror endpoints tried before HOST'],
  ['registries.HOST.insecure', 'true or false: plain HTTP / unverified TLS'],
  ['registries.HOST.ca', 'absolute path of a PEM CA bundle'],
  ['registries.HOST.credHelper', 'docker-credential-NAME helper for HOST'],
  ['registries.HOST.username/password', 'static credentials for HOST'],
  ['platform', 'default platform, e.g. linux/arm64'],
  ['logs.maxSize', 'default log size of new containers before rotation: bytes, or "10m" (--log-opt max-size)'],
  ['logs.maxFiles', 'default number of log files a container keeps, rotated ones included (--log-opt max-file)'],
  ['portProxy.udpIdleTimeout', 'seconds before an idle UDP port-proxy flow is dropped'],
  ['init.path', 'absolute path of the --init binary (tini, catatonit)'],
  ['rootfs.driver', 'fuse-overlayfs (default) or overlay (the kernel\'s, Linux 5.11+)'],
  ['security.seccompProfile', 'default, unconfined or the absolute path of a docker-format seccomp profile'],
  ['security.noNewPrivileges', 'true or false (default false, like docker)'],
]
