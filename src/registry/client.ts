import {createHash} from 'node:crypto'
import type {CtrConfig, RegistryConfig} from '../config/schema.js'
import {CtrError, IntegrityError, NotFoundError, RegistryError, UnauthorizedError, UnsupportedMediaTypeError} from '../errors.js'
import {manifestMediaType as checkedMediaType, parseJsonDocument} from '../oci/media-type.js'
import {MediaType} from '../oci/types.js'
import {DOCKER_HUB, DOCKER_HUB_ENDPOINT, registryEndpointHost} from '../reference/parse.js'
import {basicChallenge, bearerChallenge, parseChallenges, type Challenge} from './challenge.js'
import {getCredentials} from '../auth/credentials.js'
import {basicAuthHeader, type Credentials} from './credentials.js'
import {
  AgentPool,
  discardBody,
  HttpsOnlyError,
  parseRetryAfter,
  readSmallBody,
  registryErrorMessage,
  responseHeader,
  sendRequest,
  TransientError,
  type Endpoint,
  type HttpResponse,
} from './http.js'
import {transferLimits, type TransferLimits} from './limits.js'
import {withRetry} from './retry.js'
import {fetchToken} from './token.js'
import {pumpBody} from './transfer.js'

export const MANIFEST_ACCEPT = [MediaType.OciIndex, MediaType.DockerManifestList, MediaType.OciManifest, MediaType.DockerManifest].join(', ')

export interface FetchedManifest {
  bytes: Buffer
  digest: string
  mediaType: string
  /** Endpoint that served it (a mirror or the registry). */
  host: string
}

export interface RegistryClientOptions {
  config: Pick<CtrConfig, 'registries'>
  /** Registry as written in the reference (docker.io, 127.0.0.1:5000). */
  registry: string
  repository: string
  limits?: TransferLimits
  env?: NodeJS.ProcessEnv
  /** Called when a request is retried or a mirror is skipped (for progress/debug output). */
  onNotice?: (message: string) => void
}

export function isLoopbackHost(host: string): boolean {
  const hostname = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return hostname === 'localhost' || hostname === '::1' || /^127\.\d+\.\d+\.\d+$/.test(hostname)
}

function registryConfig(config: Pick<CtrConfig, 'registries'>, registry: string): RegistryConfig | undefined {
  const regs = config.registries ?? {}
  if (regs[registry]) return regs[registry]
  if (registry === DOCKER_HUB) return regs[DOCKER_HUB_ENDPOINT] ?? regs['index.docker.io']
  return undefined
}

/** Endpoints tried in order: configured mirrors, then the registry itself. */
export function endpointsFor(config: Pick<CtrConfig, 'registries'>, registry: string): Endpoint[] {
  const reg = registryConfig(config, registry)
  const out: Endpoint[] = []
  for (const raw of reg?.mirrors ?? []) {
    let url: URL
    try {
      url = new URL(/^[a-z]+:\/\//i.test(raw) ? raw : `${isLoopbackHost(raw) ? 'http' : 'https'}://${raw}`)
    } catch {
      throw new RegistryError(`registry ${registry}: invalid mirror ${JSON.stringify(raw)}`)
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RegistryError(`registry ${registry}: mirror ${raw} must be http or https`)
    const mirrorConf = registryConfig(config, url.host)
    out.push({
      origin: url.origin,
      host: url.host,
      registry,
      mirror: true,
      insecureTls: mirrorConf?.insecure === true,
      caFile: mirrorConf?.ca,
    })
  }
  const host = registryEndpointHost(registry)
  if (isLoopbackHost(host) && !reg?.ca) {
    // Plain HTTP for loopback, upgraded to HTTPS (verified unless insecure) when the server
    // answers that it speaks only HTTPS; a configured CA means HTTPS from the start.
    out.push({origin: `http://${host}`, host, registry, mirror: false, insecureTls: reg?.insecure === true})
  } else if (reg?.insecure) {
    // Like docker: HTTPS without verification first, plain HTTP if that fails.
    out.push({origin: `https://${host}`, host, registry, mirror: true, insecureTls: true, caFile: reg?.ca})
    out.push({origin: `http://${host}`, host, registry, mirror: false, insecureTls: true})
  } else {
    out.push({origin: `https://${host}`, host, registry, mirror: false, insecureTls: false, caFile: reg?.ca})
  }
  return out
}

interface CachedAuth {
  header: string
  expiresAt: number
}

/**
 * The media type of a manifest document (its mediaType field, the Content-Type, or inferred);
 * ambiguous documents are refused (see oci/validate.ts).
 */
export function manifestMediaType(bytes: Buffer, contentType: string | undefined, what: string): string {
  return checkedMediaType(parseJsonDocument(bytes, `${what}: manifest`), contentType, what)
}

/**
 * A client for one repository of one registry (API v2): mirrors first, token or basic auth,
 * retries on transient errors, every transfer under the watchdog of `pumpBody`.
 */
export class RegistryClient {
  readonly endpoints: Endpoint[]
  readonly limits: TransferLimits
  private readonly pool: AgentPool
  private readonly auth = new Map<string, CachedAuth>()
  private readonly scope: string

  constructor(private readonly opts: RegistryClientOptions) {
    this.limits = opts.limits ?? transferLimits(opts.env)
    this.endpoints = endpointsFor(opts.config, opts.registry)
    this.pool = new AgentPool(this.limits)
    this.scope = `repository:${opts.repository}:pull`
  }

  async close(): Promise<void> {
    await this.pool.close()
  }

  private get name(): string {
    return `${this.opts.registry}/${this.opts.repository}`
  }

  private readonly credentials = new Map<string, Promise<Credentials | undefined>>()

  /** Credentials for an endpoint's host (a mirror has its own), looked up once per client. */
  private credentialsFor(ep: Endpoint): Promise<Credentials | undefined> {
    const host = ep.mirror && ep.host !== registryEndpointHost(ep.registry) ? ep.host : ep.registry
    let found = this.credentials.get(host)
    if (!found) {
      found = getCredentials(host, {config: this.opts.config, env: this.opts.env})
      this.credentials.set(host, found)
    }
    return found
  }

  /** Runs `fn` against each endpoint in turn (with retries); a failing mirror falls through to the next. */
  private async onEndpoints<T>(what: string, fn: (ep: Endpoint) => Promise<T>): Promise<T> {
    let last: unknown
    for (const listed of this.endpoints) {
      let ep = this.upgraded.get(listed.origin) ?? listed
      for (;;) {
        try {
          return await withRetry(() => fn(ep), this.limits, (err, delay, attempt) =>
            this.opts.onNotice?.(`${what}: ${err.message}; retrying in ${delay} ms (attempt ${attempt + 1}/${this.limits.maxTries})`),
          )
        } catch (err) {
          if (err instanceof HttpsOnlyError && ep.origin.startsWith('http:')) {
            ep = {...ep, origin: `https://${ep.host}`}
            this.upgraded.set(listed.origin, ep)
            continue
          }
          last = err
          if (!ep.mirror) throw err
          this.opts.onNotice?.(`${what}: mirror ${ep.origin} failed (${err instanceof Error ? err.message : String(err)}), trying the next endpoint`)
          break
        }
      }
    }
    throw last
  }

  /** Plain-HTTP endpoints that answered they speak only HTTPS, and their HTTPS replacement. */
  private readonly upgraded = new Map<string, Endpoint>()

  /** GET with authentication: on a 401, answer the challenge once and ask again. */
  private async get(ep: Endpoint, path: string, headers: Record<string, string>, what: string): Promise<HttpResponse> {
    const url = new URL(path, ep.origin)
    const key = `${ep.origin}|${this.scope}`
    const cached = this.auth.get(key)
    let authorization = cached && cached.expiresAt > Date.now() ? cached.header : undefined
    for (let attempt = 0; attempt < 2; attempt++) {
      const res = await sendRequest(this.pool, ep, url, {
        headers: {...headers, ...(authorization ? {authorization} : {})},
        stallMs: this.limits.stallTimeoutMs,
      })
      if (res.statusCode !== 401) return res
      const challenges = parseChallenges(res.headers['www-authenticate'])
      const text = await readSmallBody(res.body)
      if (attempt === 1) throw await this.unauthorized(ep, what, registryErrorMessage(text))
      const fresh = await this.authorize(ep, challenges, what)
      if (!fresh) throw await this.unauthorized(ep, what, registryErrorMessage(text))
      this.auth.set(key, fresh)
      authorization = fresh.header
    }
    throw await this.unauthorized(ep, what)
  }

  private async unauthorized(ep: Endpoint, what: string, detail?: string): Promise<UnauthorizedError> {
    const creds = await this.credentialsFor(ep)
    const why = creds ? `access denied for user ${creds.username}` : `authentication required (no credentials for ${ep.registry})`
    return new UnauthorizedError(`unauthorized: ${what}: ${why}${detail ? ` (${detail})` : ''}`)
  }

  private async authorize(ep: Endpoint, challenges: Challenge[], what: string): Promise<CachedAuth | undefined> {
    const creds = await this.credentialsFor(ep)
    const bearer = bearerChallenge(challenges)
    if (bearer) return this.fetchToken(ep, bearer, creds, what)
    if (basicChallenge(challenges) && creds) return {header: basicAuthHeader(creds), expiresAt: Number.MAX_SAFE_INTEGER}
    return undefined
  }

  private async fetchToken(ep: Endpoint, challenge: Challenge, creds: Credentials | undefined, what: string): Promise<CachedAuth> {
    const scope = challenge.params.scope && challenge.params.scope.includes(this.opts.repository) ? challenge.params.scope : this.scope
    const {token, expiresIn} = await fetchToken(this.pool, ep, challenge, {
      params: {scope},
      creds,
      limits: this.limits,
      refused: (host, detail) =>
        new UnauthorizedError(`unauthorized: ${what}: ${creds ? `authentication as ${creds.username} failed` : 'anonymous access refused'} at ${host}${detail ? ` (${detail})` : ''}`),
      checkStatus: (res, realm) => this.checkStatus(res, realm, `token for ${what}`),
    })
    return {header: `Bearer ${token}`, expiresAt: Date.now() + Math.max(10, expiresIn - 10) * 1000}
  }

  /** Throws the typed error for a non-2xx status (the body is consumed). */
  private async checkStatus(res: HttpResponse, ep: Endpoint, what: string, notFound?: () => CtrError): Promise<void> {
    const status = res.statusCode
    if (status >= 200 && status < 300) return
    const text = await readSmallBody(res.body)
    const detail = registryErrorMessage(text)
    if (status === 404 && notFound) throw notFound()
    if (status === 401 || status === 403) throw this.unauthorized(ep, what, detail)
    if (status === 429 || status >= 500) {
      throw new TransientError(
        `registry ${res.url.host} returned ${status} for ${what}${detail ? `: ${detail}` : ''}`,
        parseRetryAfter(responseHeader(res.headers, 'retry-after'), this.limits.retryMaxMs),
      )
    }
    if (status === 406 || status === 415) throw new UnsupportedMediaTypeError(`registry ${res.url.host}: ${what}: no acceptable media type (${status})`)
    throw new RegistryError(`registry ${res.url.host} returned ${status} for ${what}${detail ? `: ${detail}` : ''}`)
  }

  /**
   * Fetches a manifest or index by tag or digest: at most `maxManifestBytes` are ever read, the
   * digest is computed from the bytes and checked against `reference` when it is a digest.
   * `display` names the image in errors (docker.io/library/nope:latest).
   */
  async getManifest(reference: string, display: string, accept = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const byDigest = reference.startsWith('sha256:')
    return this.onEndpoints(`manifest ${display}`, async (ep) => {
      const res = await this.get(ep, `/v2/${this.opts.repository}/manifests/${reference}`, {accept}, display)
      await this.checkStatus(res, ep, display, () => new NotFoundError(`manifest unknown: ${display}`))
      const limit = this.limits.maxManifestBytes
      const tooLarge = () => new RegistryError(`manifest for ${display} from ${ep.host} is larger than ${limit} bytes`)
      const declared = Number(responseHeader(res.headers, 'content-length') ?? NaN)
      if (declared > limit) {
        discardBody(res.body)
        throw tooLarge()
      }
      const chunks: Buffer[] = []
      const hash = createHash('sha256')
      await pumpBody(res.body, {
        limits: this.limits,
        host: res.url.host,
        what: `manifest ${display}`,
        maxBytes: limit,
        tooLarge,
        onChunk: (c) => {
          hash.update(c)
          chunks.push(c)
        },
      })
      const bytes = Buffer.concat(chunks)
      const digest = `sha256:${hash.digest('hex')}`
      if (byDigest && digest !== reference) {
        throw new IntegrityError(`manifest ${display} from ${ep.host} does not match its digest: got ${digest}`)
      }
      const mediaType = manifestMediaType(bytes, responseHeader(res.headers, 'content-type'), display)
      return {bytes, digest, mediaType, host: ep.host}
    })
  }

  /**
   * Streams a blob into `consume`, which must read the whole body (it verifies digest and size).
   * A TransientError from `consume` (connection reset mid-body) retries the download from zero.
   */
  async fetchBlob<T>(digest: string, consume: (res: HttpResponse, host: string) => Promise<T>): Promise<T> {
    return this.onEndpoints(`blob ${digest.slice(7, 19)}`, async (ep) => {
      const res = await this.get(ep, `/v2/${this.opts.repository}/blobs/${digest}`, {accept: '*/*'}, this.name)
      await this.checkStatus(res, ep, `blob ${digest}`, () => new NotFoundError(`blob unknown: ${digest} in ${this.name}`))
      return consume(res, res.url.host)
    })
  }
}
