import type {CtrConfig} from '../config/schema.js'
import type {CredentialsFn} from '../registry/credentials.js'
import {
  authKeyAliases,
  authKey,
  authsLookup,
  type Credentials,
  dockerConfigPath,
  encodeAuth,
  normalizeRegistry,
  readDockerConfig,
  writeDockerConfig,
} from './docker-config.js'
import {helperErase, helperFor, helperGet, helperStore} from './helper.js'

export type {Credentials} from './docker-config.js'

export interface CredentialOptions {
  /** The ctr-ts configuration (registries[host].username/password/credHelper). */
  config?: Pick<CtrConfig, 'registries'>
  /** HOME / DOCKER_CONFIG / PATH (for helpers); process.env by default. */
  env?: NodeJS.ProcessEnv
}

/** Where stored credentials live for a registry. */
export type CredentialStore = {kind: 'helper'; helper: string; from: string} | {kind: 'file'; path: string}

/**
 * Credentials for a registry host as written in references (docker.io, 127.0.0.1:5000;
 * registry-1.docker.io and https://index.docker.io/v1/ count as docker.io), in this order:
 * static username/password in the ctr-ts configuration; the credential helper configured for the
 * host (registries[host].credHelper, then credHelpers[host] and credsStore in
 * ~/.docker/config.json or $DOCKER_CONFIG/config.json); that file's `auths`.
 * Undefined when nothing is stored (anonymous access).
 */
export async function getCredentials(host: string, opts: CredentialOptions = {}): Promise<Credentials | undefined> {
  const registry = normalizeRegistry(host)
  const reg = opts.config?.registries?.[registry] ?? opts.config?.registries?.[host]
  if (reg?.username !== undefined && reg.password !== undefined) return {username: reg.username, password: reg.password}
  const docker = readDockerConfig(opts.env)
  const helper = helperFor(registry, opts.config, docker)
  if (helper) {
    const found = await helperGet(helper.name, registry)
    // Like docker: when a helper is configured for the host, `auths` is not consulted.
    return found
  }
  return authsLookup(docker, registry)
}

/** The stored credentials as the registry authorizer's `credentials(host)` callback. */
export function storedCredentials(opts: CredentialOptions = {}): CredentialsFn {
  return (host) => getCredentials(host, opts)
}

/** Where `storeCredentials` would put credentials for `host`. */
export function credentialStoreFor(host: string, opts: CredentialOptions = {}): CredentialStore {
  const registry = normalizeRegistry(host)
  const helper = helperFor(registry, opts.config, readDockerConfig(opts.env))
  if (helper) return {kind: 'helper', helper: helper.name, from: helper.from}
  return {kind: 'file', path: dockerConfigPath(opts.env)}
}


/**
 * Stores credentials: through the configured helper, or in `auths[host].auth` of the docker
 * config file (other keys preserved, written atomically, mode 0600).
 */
export async function storeCredentials(host: string, creds: Credentials, opts: CredentialOptions = {}): Promise<CredentialStore> {
  const registry = normalizeRegistry(host)
  const store = credentialStoreFor(registry, opts)
  if (store.kind === 'helper') {
    await helperStore(store.helper, registry, creds)
    // A stale plain-text entry would otherwise shadow nothing but still leak: drop it.
    removeAuthsEntries(registry, opts.env)
    return store
  }
  const docker = readDockerConfig(opts.env)
  const auths = {...(docker.auths ?? {})}
  for (const key of authKeyAliases(registry)) delete auths[key]
  auths[authKey(registry)] = {auth: encodeAuth(creds)}
  writeDockerConfig({...docker, auths}, opts.env)
  return store
}

function removeAuthsEntries(registry: string, env?: NodeJS.ProcessEnv): boolean {
  const docker = readDockerConfig(env)
  if (!docker.auths) return false
  const auths = {...docker.auths}
  let removed = false
  for (const key of authKeyAliases(registry)) {
    if (key in auths) {
      delete auths[key]
      removed = true
    }
  }
  if (removed) writeDockerConfig({...docker, auths}, env)
  return removed
}

/** Removes stored credentials for `host` (helper and file); true when there was something to remove. */
export async function eraseCredentials(host: string, opts: CredentialOptions = {}): Promise<boolean> {
  const registry = normalizeRegistry(host)
  const store = credentialStoreFor(registry, opts)
  let erased = false
  if (store.kind === 'helper') erased = await helperErase(store.helper, registry)
  return removeAuthsEntries(registry, opts.env) || erased
}
