import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {dirname, join} from 'node:path'
import {ConfigError} from '../errors.js'
import type {Credentials} from '../registry/credentials.js'

/** The parts of ~/.docker/config.json ctr-ts reads and writes; every other key is preserved. */
export interface DockerConfigFile {
  auths?: Record<string, {auth?: string; username?: string; password?: string; identitytoken?: string}>
  credsStore?: string
  credHelpers?: Record<string, string>
  [key: string]: unknown
}

// The shape the registry's authorizer asks for; auth/ depends on registry/ for this type only,
// registry/ never imports auth/ (it gets credentials through a callback).
export type {Credentials}

export const DOCKER_HUB = 'docker.io'
/** The key docker itself uses for Docker Hub in `auths` and with credential helpers. */
export const DOCKER_HUB_AUTH_KEY = 'https://index.docker.io/v1/'
const DOCKER_HUB_ALIASES = ['docker.io', 'index.docker.io', 'registry-1.docker.io', 'registry.hub.docker.com']

/**
 * A registry name as the user may write it (https://index.docker.io/v1/, registry-1.docker.io,
 * http://127.0.0.1:5000/) reduced to the host[:port] ctr-ts uses in references (docker.io, 127.0.0.1:5000).
 */
export function normalizeRegistry(input: string | undefined): string {
  let s = (input ?? '').trim()
  if (!s) return DOCKER_HUB
  s = s.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')
  s = s.split('/')[0]!.toLowerCase()
  if (DOCKER_HUB_ALIASES.includes(s)) return DOCKER_HUB
  return s
}

/** The server URL / `auths` key for a registry, as docker writes it. */
export function authKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_AUTH_KEY : registry
}

/** All `auths` keys under which a registry's entry may have been written (by docker or by hand). */
export function authKeyAliases(registry: string): string[] {
  const hosts = registry === DOCKER_HUB ? DOCKER_HUB_ALIASES : [registry]
  const keys: string[] = registry === DOCKER_HUB ? [DOCKER_HUB_AUTH_KEY, 'https://index.docker.io/v1'] : []
  for (const h of hosts) keys.push(h, `https://${h}`, `http://${h}`, `https://${h}/`, `http://${h}/`, `https://${h}/v2/`, `https://${h}/v1/`)
  return keys
}

export function dockerConfigPath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json')
  return join(env.HOME || homedir(), '.docker', 'config.json')
}

/** Reads the docker config file; a missing file is an empty config, an unparsable one a ConfigError. */
export function readDockerConfig(env: NodeJS.ProcessEnv = process.env): DockerConfigFile {
  const path = dockerConfigPath(env)
  let text: string
  try {
    text = readFileSync(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {}
    throw err
  }
  if (text.trim() === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`${path}: not valid JSON: ${(err as Error).message.split('\n')[0]}`)
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`${path}: expected a JSON object`)
  return parsed as DockerConfigFile
}

/** Writes the docker config file atomically (temp file + rename), mode 0600, directory 0700. */
export function writeDockerConfig(config: DockerConfigFile, env: NodeJS.ProcessEnv = process.env): void {
  const path = dockerConfigPath(env)
  mkdirSync(dirname(path), {recursive: true, mode: 0o700})
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  try {
    writeFileSync(tmp, JSON.stringify(config, null, '\t') + '\n', {mode: 0o600, flag: 'wx'})
    renameSync(tmp, path)
  } catch (err) {
    rmSync(tmp, {force: true})
    throw err
  }
}

/** Decodes one `auths` entry: base64 "user:password" in `auth`, or username/password. */
export function decodeAuthEntry(entry: unknown): Credentials | undefined {
  if (typeof entry !== 'object' || entry === null) return undefined
  const e = entry as {auth?: unknown; username?: unknown; password?: unknown}
  if (typeof e.auth === 'string' && e.auth) {
    const decoded = Buffer.from(e.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon > 0) return {username: decoded.slice(0, colon), password: decoded.slice(colon + 1)}
  }
  if (typeof e.username === 'string' && typeof e.password === 'string') return {username: e.username, password: e.password}
  return undefined
}

export function encodeAuth(creds: Credentials): string {
  return Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')
}

/** Credentials for `registry` in the file's `auths`, under any of its aliases. */
export function authsLookup(config: DockerConfigFile, registry: string): Credentials | undefined {
  const auths = config.auths
  if (typeof auths !== 'object' || auths === null) return undefined
  for (const key of authKeyAliases(registry)) {
    const creds = decodeAuthEntry(auths[key])
    if (creds) return creds
  }
  return undefined
}
