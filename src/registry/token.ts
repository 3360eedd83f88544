import {RegistryError} from '../errors.js'
import type {Challenge} from './challenge.js'
import {basicAuthHeader, type Credentials} from './credentials.js'
import {type AgentPool, type Endpoint, type HttpResponse, readSmallBody, registryErrorMessage, sendRequest} from './http.js'
import type {TransferLimits} from './limits.js'
import {pumpBody} from './transfer.js'

export interface TokenRequest {
  /** Query parameters besides `service`: `scope` (pull) or `account` (login). */
  params: Record<string, string>
  /** Sent as Basic auth to the realm; anonymous without. */
  creds?: Credentials
  limits: TransferLimits
  /** The error for a 401/403 from the token server (`detail`: its own words, if any). */
  refused: (tokenHost: string, detail: string | undefined) => Error
  /** Throws for another non-2xx status (the body is the caller's); default: RegistryError "token server H returned N". */
  checkStatus?: (res: HttpResponse, realm: Endpoint) => Promise<void>
}

export interface BearerToken {
  token: string
  /** Lifetime in seconds as the token server gave it (60 when it did not). */
  expiresIn: number
}

const MAX_TOKEN_BYTES = 1024 * 1024

/**
 * Answers a Bearer challenge from `ep` (the docker token protocol): asks the realm it names for
 * a token. Credentials go only to that realm, with the TLS settings of the registry that named
 * it; a redirect to any other origin is followed without them (sendRequest).
 */
export async function fetchToken(pool: AgentPool, ep: Endpoint, challenge: Challenge, req: TokenRequest): Promise<BearerToken> {
  const realm = challenge.params.realm
  if (!realm) throw new RegistryError(`registry ${ep.host}: bearer challenge without a realm`)
  let url: URL
  try {
    url = new URL(realm)
  } catch {
    throw new RegistryError(`registry ${ep.host}: invalid token realm ${JSON.stringify(realm)}`)
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw new RegistryError(`registry ${ep.host}: token realm must be http(s)`)
  if (challenge.params.service) url.searchParams.set('service', challenge.params.service)
  for (const [name, value] of Object.entries(req.params)) url.searchParams.set(name, value)
  const realmEndpoint: Endpoint = {...ep, origin: url.origin, host: url.host}
  const headers: Record<string, string> = {accept: 'application/json'}
  if (req.creds) headers.authorization = basicAuthHeader(req.creds)
  const res = await sendRequest(pool, realmEndpoint, url, {headers, stallMs: req.limits.stallTimeoutMs})
  if (res.statusCode === 401 || res.statusCode === 403) {
    throw req.refused(url.host, registryErrorMessage(await readSmallBody(res.body)))
  }
  if (req.checkStatus) await req.checkStatus(res, realmEndpoint)
  else if (res.statusCode < 200 || res.statusCode >= 300) {
    await readSmallBody(res.body)
    throw new RegistryError(`token server ${url.host} returned ${res.statusCode}`)
  }
  const chunks: Buffer[] = []
  await pumpBody(res.body, {
    limits: req.limits,
    host: url.host,
    what: 'token',
    maxBytes: MAX_TOKEN_BYTES,
    tooLarge: () => new RegistryError(`token server ${url.host} sent more than 1 MiB`),
    onChunk: (c) => void chunks.push(c),
  })
  let doc: {token?: unknown; access_token?: unknown; expires_in?: unknown} | null
  try {
    doc = JSON.parse(Buffer.concat(chunks).toString('utf8'))
  } catch {
    throw new RegistryError(`token server ${url.host} sent invalid JSON`)
  }
  doc ??= {}
  const token = typeof doc.token === 'string' && doc.token ? doc.token : typeof doc.access_token === 'string' && doc.access_token ? doc.access_token : undefined
  if (!token) throw new RegistryError(`token server ${url.host} sent no token`)
  const expiresIn = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60
  return {token, expiresIn}
}
