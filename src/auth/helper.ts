import type {CtrConfig} from '../config/schema.js'
import {PrerequisiteError, RegistryError} from '../errors.js'
import {authKey, DOCKER_HUB, type Credentials, type DockerConfigFile} from './docker-config.js'

/**
 * docker-credential-<name> helpers (the docker credential-helper protocol): the action is the only
 * argument, input on stdin, output on stdout.
 *   get:   stdin server URL            → stdout {"ServerURL","Username","Secret"}
 *   store: stdin {"ServerURL","Username","Secret"}
 *   erase: stdin server URL
 * "not found" is reported by a non-zero exit with "credentials not found" on stdout.
 */
export interface HelperChoice {
  name: string
  /** Where the choice was made, for messages. */
  from: string
}

/** The helper configured for `registry`: ctr-ts config first, then credHelpers[host], then credsStore. */
export function helperFor(registry: string, config: Pick<CtrConfig, 'registries'> | undefined, docker: DockerConfigFile): HelperChoice | undefined {
  const ours = config?.registries?.[registry]?.credHelper
  if (ours) return {name: ours, from: `ctr-ts configuration registries.${registry}.credHelper`}
  const helpers = docker.credHelpers
  if (helpers && typeof helpers === 'object') {
    for (const key of registry === DOCKER_HUB ? [DOCKER_HUB, authKey(DOCKER_HUB), 'index.docker.io', 'registry-1.docker.io'] : [registry]) {
      const name = helpers[key]
      if (typeof name === 'string' && name) return {name, from: `credHelpers["${key}"]`}
    }
  }
  if (typeof docker.credsStore === 'string' && docker.credsStore) return {name: docker.credsStore, from: 'credsStore'}
  return undefined
}

function program(name: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(name)) throw new RegistryError(`invalid credential helper name ${JSON.stringify(name)}`)
  return `docker-credential-${name}`
}

async function callHelper(name: string, action: 'get' | 'store' | 'erase', input: string): Promise<{ok: boolean; stdout: string; stderr: string}> {
  const file = program(name)
  try {
    const {execa} = await import('execa') // only when a helper is configured: keeps pull's start-up light
    const r = await execa(file, [action], {input, reject: false, timeout: 30_000, stripFinalNewline: true})
    if (r.failed && (r as {code?: string}).code === 'ENOENT') throw new PrerequisiteError(`credential helper ${file} not found on PATH`)
    return {ok: r.exitCode === 0, stdout: String(r.stdout ?? ''), stderr: String(r.stderr ?? '')}
  } catch (err) {
    if (err instanceof PrerequisiteError) throw err
    throw new RegistryError(`credential helper ${file} ${action} failed: ${(err as Error).message.split('\n')[0]}`)
  }
}

/** Message for a failed helper call, never including what was sent to it. */
function failure(name: string, action: string, r: {stdout: string; stderr: string}): RegistryError {
  const why = (r.stderr || r.stdout).split('\n').map((l) => l.trim()).filter(Boolean)[0] ?? 'non-zero exit'
  return new RegistryError(`credential helper docker-credential-${name} ${action} failed: ${why.slice(0, 200)}`)
}

const NOT_FOUND = /credentials not found/i

export async function helperGet(name: string, registry: string): Promise<Credentials | undefined> {
  const r = await callHelper(name, 'get', authKey(registry))
  if (!r.ok) {
    if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return undefined
    throw failure(name, 'get', r)
  }
  let doc: {Username?: unknown; Secret?: unknown}
  try {
    doc = JSON.parse(r.stdout)
  } catch {
    throw new RegistryError(`credential helper docker-credential-${name} get: invalid JSON output`)
  }
  if (typeof doc.Username !== 'string' || typeof doc.Secret !== 'string' || doc.Secret === '') return undefined
  return {username: doc.Username, password: doc.Secret}
}

export async function helperStore(name: string, registry: string, creds: Credentials): Promise<void> {
  const input = JSON.stringify({ServerURL: authKey(registry), Username: creds.username, Secret: creds.password})
  const r = await callHelper(name, 'store', input)
  if (!r.ok) throw failure(name, 'store', r)
}

/** Erases; true when the helper had something to erase. */
export async function helperErase(name: string, registry: string): Promise<boolean> {
  const r = await callHelper(name, 'erase', authKey(registry))
  if (r.ok) return true
  if (NOT_FOUND.test(r.stdout) || NOT_FOUND.test(r.stderr)) return false
  throw failure(name, 'erase', r)
}
