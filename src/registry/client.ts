import {createHash} from 'node:crypto'
import type {CtrConfig, RegistryConfig} from '../config/schema.js'
import {
  CtrError,
  HttpsOnlyError,
  IntegrityError,
  NotFoundError,
  RegistryError,
  TimeoutError,
  TlsError,
  TransientError,
  UnauthorizedError,
  UnreachableError,
  UnsupportedMediaTypeError,
} from '../errors.js'
import {manifestMediaType as checkedMediaType, parseJsonDocument} from '../oci/media-type.js'
import {MediaType} from '../oci/types.js'
import {DOCKER_HUB, DOCKER_HUB_ENDPOINT, registryEndpointHost} from '../reference/parse.js'
import {Authorizer} from './authorizer.js'
import type {CredentialsFn} from './credentials.js'
import {
  AgentPool,
  discardBody,
  readSmallBody,
  registryErrorMessage,
  responseHeader,
  sendRequest,
  statusError,
  type Endpoint,
  type HttpMethod,
  type HttpResponse,
  type RequestBody,
} from './http.js'
import {transferLimits, type TransferLimits} from './limits.js'
import {withRetry} from './retry.js'
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
  /** The repository pulled from; none for a client that only pings (login). */
  repository?: string
  /** Credentials for a registry or mirror host (src/auth/ reads the stored ones). */
  credentials: CredentialsFn
  limits?: TransferLimits
  env?: NodeJS.ProcessEnv
  /** Called when a request is retried or a mirror is skipped (for progress/debug output). */
  onNotice?: (message: string) => void
  /**
   * A client that pushes: its token scope is `repository:NAME:pull,push` (plus `pull` on each
   * repository of `mountFrom`, the sources of cross-repository mounts) and it never talks to a
   * mirror.
   */
  push?: {mountFrom?: string[]}
}

/** What a push request sends (uploads go through RegistryClient.send). */
export interface SendOptions {
  method: HttpMethod
  headers?: Record<string, string>
  /** Called for each attempt (a stream is read once). */
  body?: () => RequestBody
  what: string
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
  const insecure = reg?.insecure === true
  const https: Endpoint = {origin: `https://${host}`, host, registry, mirror: false, insecureTls: insecure, caFile: reg?.ca}
  if (insecure || (isLoopbackHost(host) && !reg?.ca)) {
    // Like docker for insecure registries (and loopback ones): HTTPS first (verified unless
    // `insecure`), plain HTTP when the HTTPS connection itself fails. A loopback registry with
    // a configured CA is HTTPS only; any other registry too.
    out.push({...https, httpFallback: true}, {origin: `http://${host}`, host, registry, mirror: false, insecureTls: insecure})
  } else {
    out.push(https)
  }
  return out
}

/** A failure to talk to the endpoint at all, as opposed to an answer from it. */
function isConnectionFailure(err: unknown): boolean {
  return err instanceof TlsError || err instanceof TransientError || err instanceof UnreachableError || err instanceof TimeoutError
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
  private readonly authorizer: Authorizer
  /** The token scope of this client's requests ('' without a repository). */
  private readonly scope: string

  constructor(private readonly opts: RegistryClientOptions) {
    this.limits = opts.limits ?? transferLimits(opts.env)
    const endpoints = endpointsFor(opts.config, opts.registry)
    this.endpoints = opts.push ? endpoints.filter((ep) => !ep.mirror) : endpoints
    this.pool = new AgentPool(this.limits)
    this.authorizer = new Authorizer({pool: this.pool, limits: this.limits, credentials: opts.credentials})
    const from = (opts.push?.mountFrom ?? []).filter((r) => r !== opts.repository)
    this.scope = opts.repository
      ? [`repository:${opts.repository}:${opts.push ? 'pull,push' : 'pull'}`, ...[...new Set(from)].map((r) => `repository:${r}:pull`)].join(' ')
      : ''
  }

  async close(): Promise<void> {
    await this.pool.close()
  }

  private get name(): string {
    return `${this.opts.registry}/${this.opts.repository ?? ''}`
  }

  private get repository(): string {
    if (!this.opts.repository) throw new RegistryError(`registry ${this.opts.registry}: no repository given`)
    return this.opts.repository
  }

  /**
   * Runs `fn` against each endpoint in turn (with retries); a failing mirror falls through to the
   * next. This is where the scheme is decided, for pulls and for `login` alike (endpointsFor
   * lists the candidates): the HTTPS endpoint of an insecure or loopback registry is tried first;
   * when it fails before it ever answered (not TLS, refused, reset) its plain HTTP twin is used
   * for the rest of this client's life, and when that twin then answers it speaks only
   * HTTPS, the HTTPS failure is what the user sees (an untrusted certificate, say). A plain HTTP
   * mirror that answers so is asked again over HTTPS.
   */
  private async onEndpoints<T>(what: string, fn: (ep: Endpoint) => Promise<T>, endpoints = this.endpoints): Promise<T> {
    let last: unknown
    let httpsFailure: unknown
    for (const listed of endpoints) {
      if (this.fellBack.has(listed.origin)) continue
      let ep = this.upgraded.get(listed.origin) ?? listed
      for (;;) {
        try {
          return await withRetry(() => fn(ep), this.limits, (err, delay, attempt) =>
            this.opts.onNotice?.(`${what}: ${err.message}; retrying in ${delay} ms (attempt ${attempt + 1}/${this.limits.maxTries})`),
          )
        } catch (err) {
          if (ep.httpFallback && !this.answered.has(ep.origin) && isConnectionFailure(err)) {
            httpsFailure = err
            this.fellBack.add(listed.origin)
            last = err
            break
          }
          if (err instanceof HttpsOnlyError && ep.origin.startsWith('http:')) {
            if (httpsFailure !== undefined) throw httpsFailure
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
  /** HTTPS endpoints that could not be connected to: their plain HTTP twin is used instead. */
  private readonly fellBack = new Set<string>()
  /** Origins that answered at least once: they speak the protocol we chose. */
  private readonly answered = new Set<string>()

  /** GET with authentication: on a 401, answer the challenge once and ask again. */
  private async get(
    ep: Endpoint,
    path: string,
    headers: Record<string, string>,
    what: string,
    scope = this.scope,
    method: HttpMethod = 'GET',
    body?: () => RequestBody,
  ): Promise<HttpResponse> {
    const url = new URL(path, ep.origin)
    let authorization = await this.authorizer.authorize(ep, scope, what)
    for (let attempt = 0; ; attempt++) {
      const res = await sendRequest(this.pool, ep, url, {
        method,
        headers: {...headers, ...(authorization ? {authorization} : {})},
        ...(body ? {body: body()} : {}),
        stallMs: this.limits.stallTimeoutMs,
      })
      this.answered.add(ep.origin)
      if (res.statusCode !== 401) return res
      const text = await readSmallBody(res.body)
      const next = attempt === 0 ? await this.authorizer.challenged(ep, scope, res, what) : undefined
      if (!next) throw await this.authorizer.refused(ep, what, 401, registryErrorMessage(text))
      authorization = next
    }
  }

  /** Throws the typed error for a non-2xx status (the body is consumed). */
  private async checkStatus(res: HttpResponse, ep: Endpoint, what: string, notFound?: () => CtrError): Promise<void> {
    const status = res.statusCode
    if (status >= 200 && status < 300) return
    const text = await readSmallBody(res.body)
    if (status === 404 && notFound) throw notFound()
    if (status === 401 || status === 403) throw await this.authorizer.refused(ep, what, status, registryErrorMessage(text))
    throw statusError(res, text, what, this.limits.retryMaxMs)
  }

  /**
   * What `login` checks, as `docker login` does: GET /v2/ on the registry itself (never a
   * mirror), answering its challenge with the credentials (a Bearer token asked for with
   * `account` and no scope, or Basic). Resolves when they are accepted or none are needed;
   * UnauthorizedError when they are refused.
   */
  async ping(): Promise<void> {
    const host = registryEndpointHost(this.opts.registry)
    const own = this.endpoints.filter((ep) => ep.host === host)
    const what = `registry ${this.opts.registry}`
    await this.onEndpoints(
      what,
      async (ep) => {
        const res = await this.get(ep, '/v2/', {accept: 'application/json'}, what, '')
        await this.checkStatus(res, ep, what)
        await readSmallBody(res.body)
      },
      own,
    )
  }

  /**
   * Fetches a manifest or index by tag or digest: at most `maxManifestBytes` are ever read, the
   * digest is computed from the bytes and checked against `reference` when it is a digest.
   * `display` names the image in errors (docker.io/library/nope:latest).
   */
  async getManifest(reference: string, display: string, accept = MANIFEST_ACCEPT): Promise<FetchedManifest> {
    const byDigest = reference.startsWith('sha256:')
    return this.onEndpoints(`manifest ${display}`, async (ep) => {
      const res = await this.get(ep, `/v2/${this.repository}/manifests/${reference}`, {accept}, display)
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
   * One authenticated request of a push (`path`: relative to the registry, or an absolute upload
   * URL from a Location header), retried on connection failures when `retry` (the body factory
   * is called again). The response is the caller's, whatever its status.
   */
  async send(path: string, opts: SendOptions, retry = true): Promise<HttpResponse> {
    const attempt = (ep: Endpoint) => this.get(ep, path, opts.headers ?? {}, opts.what, this.scope, opts.method, opts.body)
    if (retry) return this.onEndpoints(opts.what, attempt)
    const ep = this.endpoints.find((e) => !this.fellBack.has(e.origin))
    if (!ep) throw new RegistryError(`registry ${this.opts.registry}: no endpoint left`)
    return attempt(this.upgraded.get(ep.origin) ?? ep)
  }

  /** Throws the typed error for a response that is not 2xx (its body is consumed). */
  async expectOk(res: HttpResponse, what: string, notFound?: () => CtrError): Promise<void> {
    const ep = this.endpoints.find((e) => e.host === res.url.host) ?? this.endpoints[this.endpoints.length - 1]!
    await this.checkStatus(res, ep, what, notFound)
  }

  /**
   * Streams a blob into `consume`, which must read the whole body (it verifies digest and size).
   * A TransientError from `consume` (connection reset mid-body) retries the download from zero.
   */
  async fetchBlob<T>(digest: string, consume: (res: HttpResponse, host: string) => Promise<T>): Promise<T> {
    return this.onEndpoints(`blob ${digest.slice(7, 19)}`, async (ep) => {
      const res = await this.get(ep, `/v2/${this.repository}/blobs/${digest}`, {accept: '*/*'}, this.name)
      await this.checkStatus(res, ep, `blob ${digest}`, () => new NotFoundError(`blob unknown: ${digest} in ${this.name}`))
      return consume(res, res.url.host)
    })
  }
}
