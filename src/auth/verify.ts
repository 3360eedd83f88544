import type {CtrConfig} from '../config/schema.js'
import {RegistryError, UnauthorizedError, UnreachableError} from '../errors.js'
import {bearerChallenge, basicChallenge, parseChallenges} from '../registry/challenge.js'
import {endpointsFor} from '../registry/client.js'
import {basicAuthHeader} from '../registry/credentials.js'
import {AgentPool, readSmallBody, sendRequest, type Endpoint} from '../registry/http.js'
import {transferLimits, type TransferLimits} from '../registry/limits.js'
import {fetchToken} from '../registry/token.js'
import {registryEndpointHost} from '../reference/parse.js'
import type {Credentials} from './docker-config.js'

export interface VerifyOptions {
  config: Pick<CtrConfig, 'registries'>
  env?: NodeJS.ProcessEnv
}

const loginFailed = () => new UnauthorizedError('login failed: unauthorized')

/**
 * Checks credentials against the registry itself (never a mirror) before they are stored, the
 * way `docker login` does: GET /v2/; on a 401 with a Bearer challenge, ask the realm for a
 * scope-less token with Basic auth; with a Basic challenge, repeat GET /v2/ with Basic auth.
 * The credentials go only to the registry's origin and to the realm it names; a redirect to any
 * other origin is followed without them (sendRequest). Throws UnauthorizedError
 * "login failed: unauthorized" when they are refused.
 */
export async function verifyCredentials(registry: string, creds: Credentials, opts: VerifyOptions): Promise<void> {
  const host = registryEndpointHost(registry)
  // The registry's own endpoints (for an insecure registry: https first, then http).
  const endpoints = endpointsFor(opts.config, registry).filter((ep) => ep.host === host)
  const limits = transferLimits(opts.env)
  const pool = new AgentPool(limits)
  try {
    let last: unknown
    for (const ep of endpoints) {
      try {
        await verifyAt(pool, ep, creds, limits)
        return
      } catch (err) {
        if (err instanceof UnauthorizedError) throw err
        last = err
      }
    }
    throw last ?? new UnreachableError(`registry ${registry} unreachable`)
  } finally {
    await pool.close()
  }
}

async function verifyAt(pool: AgentPool, ep: Endpoint, creds: Credentials, limits: TransferLimits): Promise<void> {
  const stallMs = limits.stallTimeoutMs
  const url = new URL('/v2/', ep.origin)
  const first = await sendRequest(pool, ep, url, {headers: {accept: 'application/json'}, stallMs})
  await readSmallBody(first.body)
  if (first.statusCode >= 200 && first.statusCode < 300) return // no authentication required
  if (first.statusCode !== 401) throw new RegistryError(`registry ${ep.host} returned ${first.statusCode} for /v2/`)
  const challenges = parseChallenges(first.headers['www-authenticate'])
  const bearer = bearerChallenge(challenges)
  if (bearer) {
    await fetchToken(pool, ep, bearer, {params: {account: creds.username}, creds, limits, refused: loginFailed})
    return
  }
  if (basicChallenge(challenges)) {
    const res = await sendRequest(pool, ep, url, {headers: {accept: 'application/json', authorization: basicAuthHeader(creds)}, stallMs})
    await readSmallBody(res.body)
    if (res.statusCode >= 200 && res.statusCode < 300) return
    if (res.statusCode === 401 || res.statusCode === 403) throw loginFailed()
    throw new RegistryError(`registry ${ep.host} returned ${res.statusCode} for /v2/`)
  }
  throw new RegistryError(`registry ${ep.host}: unsupported authentication challenge ${JSON.stringify(String(first.headers['www-authenticate'] ?? ''))}`)
}
