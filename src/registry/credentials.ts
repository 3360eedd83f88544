import {readFileSync} from 'node:fs'
import {homedir} from 'node:os'
import {join} from 'node:path'
import type {CtrConfig} from '../config/schema.js'
import {DOCKER_HUB, DOCKER_HUB_ENDPOINT} from '../reference/parse.js'

export interface Credentials {
  username: string
  password: string
}

const DOCKER_HUB_LEGACY_KEYS = ['https://index.docker.io/v1/', 'https://index.docker.io/v1', 'index.docker.io', DOCKER_HUB_ENDPOINT]

/** Keys under which a registry's entry may appear in ~/.docker/config.json `auths`. */
function authKeysFor(host: string): string[] {
  const keys = [host, `https://${host}`, `http://${host}`, `https://${host}/`, `https://${host}/v2/`, `https://${host}/v1/`]
  if (host === DOCKER_HUB || host === DOCKER_HUB_ENDPOINT) keys.push(DOCKER_HUB, ...DOCKER_HUB_LEGACY_KEYS)
  return keys
}

interface DockerAuthEntry {
  auth?: string
  username?: string
  password?: string
  identitytoken?: string
}

/** Decodes one `auths` entry: base64 "user:password" in `auth`, or username/password. */
export function decodeDockerAuth(entry: DockerAuthEntry): Credentials | undefined {
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, 'base64').toString('utf8')
    const colon = decoded.indexOf(':')
    if (colon > 0) return {username: decoded.slice(0, colon), password: decoded.slice(colon + 1)}
  }
  if (entry.username && entry.password !== undefined) return {username: entry.username, password: entry.password}
  return undefined
}

/** Finds credentials in a parsed docker config.json for `host`. */
export function credentialsFromDockerConfig(dockerConfig: unknown, host: string): Credentials | undefined {
  if (typeof dockerConfig !== 'object' || dockerConfig === null) return undefined
  const auths = (dockerConfig as {auths?: unknown}).auths
  if (typeof auths !== 'object' || auths === null) return undefined
  const table = auths as Record<string, unknown>
  for (const key of authKeysFor(host)) {
    const entry = table[key]
    if (typeof entry === 'object' && entry !== null) {
      const creds = decodeDockerAuth(entry as DockerAuthEntry)
      if (creds) return creds
    }
  }
  return undefined
}

function dockerConfigPath(env: NodeJS.ProcessEnv): string {
  if (env.DOCKER_CONFIG) return join(env.DOCKER_CONFIG, 'config.json')
  return join(env.HOME || homedir(), '.docker', 'config.json')
}

/**
 * Credentials for a registry host (as written in references: docker.io, 127.0.0.1:5000): the
 * ctr-ts configuration first (`registries[host].username/password`), then ~/.docker/config.json.
 */
export function lookupCredentials(host: string, config: Pick<CtrConfig, 'registries'>, env: NodeJS.ProcessEnv = process.env): Credentials | undefined {
  const names = host === DOCKER_HUB_ENDPOINT ? [host, DOCKER_HUB] : host === DOCKER_HUB ? [host, DOCKER_HUB_ENDPOINT] : [host]
  for (const name of names) {
    const reg = config.registries[name]
    if (reg?.username !== undefined && reg.password !== undefined) return {username: reg.username, password: reg.password}
  }
  let parsed: unknown
  try {
    parsed = JSON.parse(readFileSync(dockerConfigPath(env), 'utf8'))
  } catch {
    return undefined
  }
  return credentialsFromDockerConfig(parsed, host)
}

export function basicAuthHeader(creds: Credentials): string {
  return `Basic ${Buffer.from(`${creds.username}:${creds.password}`, 'utf8').toString('base64')}`
}
