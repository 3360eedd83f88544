import {RegistryError, UnauthorizedError} from '../errors.js'
import {registryEndpointHost} from '../reference/parse.js'
import {basicChallenge, bearerChallenge, parseChallenges, type Challenge} from './challenge.js'
import {type AgentPool, type Endpoint, type HttpResponse, readSmallBody, statusError} from './http.js'
import type {TransferLimits} from './limits.js'
import {fetchToken} from './token.js'
import {basicAuthHeader, type Credentials, type CredentialsFn} from './credentials.js'

export type {Credentials, CredentialsFn} from './credentials.js'

export interface AuthorizerOptions {
  pool: AgentPool
  limits: TransferLimits
  credentials: CredentialsFn
  /** The clock, in ms (tests move it to expire tokens). */
  now?: () => number
}

interface Grant {
  header: string
  expiresAt: number
}

/** What a registry endpoint asked for in its last 401: how to authorize the next requests. */
type Scheme = {kind: 'bearer'; challenge: Challenge} | {kind: 'basic'}

/** A token is renewed this long before the expiry its server announced. */
const EXPIRY_MARGIN_S = 10

/**
 * The one registry authorizer, for pulls and for `login` (containerd's docker Authorizer):
 * remembers each endpoint's challenge, answers it with the credentials of `credentials(host)`
 * (Basic, or a Bearer token from the realm it names, cached per endpoint and scope and renewed
 * once it has expired), and builds the error for a refused request.
 *
 *   authorize(ep, scope)          → the Authorization header for the next request, if any
 *   challenged(ep, scope, res)    → after a 401: a new header to try once, or undefined
 *   refused(ep, what, detail)     → the UnauthorizedError for a 401/403 that stays
 *
 * A scope is `repository:NAME:pull`, or '' for the bare `/v2/` check of `login` (its token is
 * asked for with `account` and no scope, as docker does).
 */
export class Authorizer {
  private readonly schemes = new Map<string, Scheme>()
  private readonly grants = new Map<string, Grant>()
  private readonly creds = new Map<string, Promise<Credentials | undefined>>()
  private readonly now: () => number

  constructor(private readonly opts: AuthorizerOptions) {
    this.now = opts.now ?? Date.now
  }

  /** Credentials for an endpoint (a mirror on its own host has its own), asked for once. */
  credentialsFor(ep: Endpoint): Promise<Credentials | undefined> {
    const host = ep.mirror && ep.host !== registryEndpointHost(ep.registry) ? ep.host : ep.registry
    let found = this.creds.get(host)
    if (!found) {
      found = this.opts.credentials(host)
      this.creds.set(host, found)
    }
    return found
  }

  /**
   * The Authorization header for a request to `ep` in `scope`: the cached grant while it is fresh;
   * once a Bearer token has expired, a new one from the challenge already known (no extra 401
   * round trip); undefined before the endpoint ever challenged.
   */
  async authorize(ep: Endpoint, scope: string, what: string): Promise<string | undefined> {
    const grant = this.grants.get(grantKey(ep, scope))
    if (grant && grant.expiresAt > this.now()) return grant.header
    const scheme = this.schemes.get(ep.origin)
    if (!scheme) return undefined
    return this.grant(ep, scope, scheme, what)
  }

  /**
   * Takes a 401 response's challenges (the body is the caller's): the header to try the request
   * again with, or undefined when there is nothing better to try (no credentials for Basic, an
   * unknown scheme).
   */
  async challenged(ep: Endpoint, scope: string, res: Pick<HttpResponse, 'headers'>, what: string): Promise<string | undefined> {
    const challenges = parseChallenges(res.headers['www-authenticate'])
    const bearer = bearerChallenge(challenges)
    let scheme: Scheme
    if (bearer) scheme = {kind: 'bearer', challenge: bearer}
    else if (basicChallenge(challenges)) scheme = {kind: 'basic'}
    else if (challenges.length > 0) {
      throw new RegistryError(`registry ${ep.host}: unsupported authentication challenge ${JSON.stringify(challenges.map((c) => c.scheme).join(', '))}`)
    } else return undefined
    this.schemes.set(ep.origin, scheme)
    this.grants.delete(grantKey(ep, scope))
    return this.grant(ep, scope, scheme, what)
  }

  /** The error for a request refused with 401 or 403 (`detail`: the registry's own words). */
  async refused(ep: Endpoint, what: string, status: number, detail?: string): Promise<UnauthorizedError> {
    const creds = await this.credentialsFor(ep)
    const why =
      status === 403
        ? `access denied${creds ? ` for user ${creds.username}` : ` (no credentials for ${ep.registry})`}`
        : creds
          ? `access denied for user ${creds.username}`
          : `authentication required (no credentials for ${ep.registry})`
    return new UnauthorizedError(`unauthorized: ${what}: ${why}${detail ? ` (${detail})` : ''}`)
  }

  private async grant(ep: Endpoint, scope: string, scheme: Scheme, what: string): Promise<string | undefined> {
    const creds = await this.credentialsFor(ep)
    let grant: Grant
    if (scheme.kind === 'basic') {
      if (!creds) return undefined
      grant = {header: basicAuthHeader(creds), expiresAt: Number.MAX_SAFE_INTEGER}
    } else {
      const params: Record<string, string> = {}
      const asked = scheme.challenge.params.scope
      // The scope the registry named, when it is about this repository; ours otherwise.
      // A scope of several parts (a push that mounts from another repository) is always ours.
      const wanted = asked && scope && !scope.includes(' ') && asked.includes(scope.split(':')[1] ?? scope) ? asked : scope
      if (wanted) params.scope = wanted
      if (creds) params.account = creds.username
      const {token, expiresIn} = await fetchToken(this.opts.pool, ep, scheme.challenge, {
        params,
        creds,
        limits: this.opts.limits,
        refused: (host, detail) =>
          new UnauthorizedError(
            `unauthorized: ${what}: ${creds ? `authentication as ${creds.username} failed` : 'anonymous access refused'} at ${host}${detail ? ` (${detail})` : ''}`,
          ),
        checkStatus: async (res) => {
          if (res.statusCode >= 200 && res.statusCode < 300) return
          throw statusError(res, await readSmallBody(res.body), `token for ${what}`, this.opts.limits.retryMaxMs)
        },
      })
      grant = {header: `Bearer ${token}`, expiresAt: this.now() + Math.max(1, expiresIn - EXPIRY_MARGIN_S) * 1000}
    }
    this.grants.set(grantKey(ep, scope), grant)
    return grant.header
  }
}

function grantKey(ep: Endpoint, scope: string): string {
  return `${ep.origin}|${scope}`
}
