import {readFileSync} from 'node:fs'
import {Readable} from 'node:stream'
import type {Dispatcher} from 'undici'
import {ConfigError, CtrError, HttpsOnlyError, RegistryError, TimeoutError, TlsError, TransientError, UnreachableError, UnsupportedMediaTypeError} from '../errors.js'
import type {TransferLimits} from './limits.js'
import {Agent, request} from './undici-parts.js'

/** Where requests for one registry (or one of its mirrors) go. */
export interface Endpoint {
  /** http://host:port or https://host */
  origin: string
  /** host[:port], as in the URL. */
  host: string
  /** Registry name this endpoint serves (docker.io for a docker.io mirror). */
  registry: string
  mirror: boolean
  /**
   * The HTTPS endpoint of an `insecure` registry: when the connection itself fails (TLS, reset,
   * unreachable), the next endpoint (its plain HTTP twin) is tried; an HTTP answer is final.
   */
  httpFallback?: boolean
  /** Skip TLS verification (registries configured `insecure`). */
  insecureTls: boolean
  /** PEM file with extra CAs. */
  caFile?: string
}

export type Headers = Record<string, string>

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** A request body (uploads): bytes in memory or a stream read once. */
export type RequestBody = Buffer | Readable

export interface HttpResponse {
  statusCode: number
  headers: Record<string, string | string[] | undefined>
  body: Dispatcher.ResponseData['body']
  /** Final URL after redirects. */
  url: URL
}

const MAX_REDIRECTS = 5

/** One undici Agent per endpoint (connect timeout, custom CA, stall timeouts). */
export class AgentPool {
  private agents = new Map<string, Agent>()
  constructor(private readonly limits: TransferLimits) {}

  agentFor(endpoint: Endpoint): Agent {
    const key = `${endpoint.origin}|${endpoint.insecureTls}|${endpoint.caFile ?? ''}`
    let agent = this.agents.get(key)
    if (!agent) {
      let ca: string[] | undefined
      if (endpoint.caFile) {
        try {
          // node:tls only here (for a CA file): loaded at start-up it costs a plain-HTTP pull ~20 ms
          ca = [...process.getBuiltinModule('node:tls').rootCertificates, readFileSync(endpoint.caFile, 'utf8')]
        } catch (err) {
          throw new ConfigError(`registry ${endpoint.registry}: cannot read CA file ${endpoint.caFile}: ${(err as Error).message}`)
        }
      }
      agent = new Agent({
        connect: {timeout: this.limits.connectTimeoutMs, ...(ca ? {ca} : {}), ...(endpoint.insecureTls ? {rejectUnauthorized: false} : {})},
        connectTimeout: this.limits.connectTimeoutMs,
        headersTimeout: this.limits.stallTimeoutMs,
        bodyTimeout: this.limits.stallTimeoutMs,
        keepAliveTimeout: 4_000,
      })
      this.agents.set(key, agent)
    }
    return agent
  }

  async close(): Promise<void> {
    const all = [...this.agents.values()]
    this.agents.clear()
    await Promise.all(all.map((a) => a.destroy().catch(() => {})))
  }
}

const TLS_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'HOSTNAME_MISMATCH',
])
const UNREACHABLE_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'UND_ERR_CONNECT_TIMEOUT'])
const TRANSIENT_CODES = new Set(['ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET', 'UND_ERR_CLOSED', 'ECONNABORTED'])
const STALL_CODES = new Set(['UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT'])

function errorCode(err: unknown): string | undefined {
  let e: unknown = err
  for (let depth = 0; depth < 4 && e && typeof e === 'object'; depth++) {
    const code = (e as {code?: unknown}).code
    if (typeof code === 'string' && code !== 'UND_ERR_SOCKET') return code
    if (typeof code === 'string' && !(e as {cause?: unknown}).cause) return code
    e = (e as {cause?: unknown}).cause
  }
  const code = (err as {code?: unknown})?.code
  return typeof code === 'string' ? code : undefined
}

/** Turns a network-level failure into the typed error the user sees. */
export function classifyNetworkError(err: unknown, endpoint: Pick<Endpoint, 'host'>, stallMs: number): CtrError {
  if (err instanceof CtrError) return err
  const code = errorCode(err) ?? ''
  const message = (err as Error)?.message ?? String(err)
  if (TLS_CODES.has(code) || code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || /certificate|ssl|tls/i.test(message)) {
    // Node suggests a flag of its own; the user's remedy is the registry's configuration.
    const reason = message.replace(/;\s*if the root CA is installed locally.*$/is, '')
    return new TlsError(`TLS handshake with ${endpoint.host} failed: ${reason} (set registries["${endpoint.host}"].ca to its CA certificate)`, {cause: err})
  }
  if (UNREACHABLE_CODES.has(code)) return new UnreachableError(`registry ${endpoint.host} unreachable: ${code === 'UND_ERR_CONNECT_TIMEOUT' ? 'connect timeout' : code}`, {cause: err})
  if (STALL_CODES.has(code)) return new TimeoutError(`registry ${endpoint.host} stalled: no data for ${stallMs} ms`, {cause: err})
  if (TRANSIENT_CODES.has(code)) return new TransientError(`connection to ${endpoint.host} failed: ${code}: ${message}`, undefined, {cause: err})
  return new RegistryError(`request to ${endpoint.host} failed: ${code ? `${code}: ` : ''}${message}`, {cause: err})
}

function header(headers: HttpResponse['headers'], name: string): string | undefined {
  const v = headers[name]
  return Array.isArray(v) ? v[0] : v
}
export {header as responseHeader}

/** Retry-After in ms (seconds or an HTTP date), bounded by `maxMs`. */
export function parseRetryAfter(value: string | undefined, maxMs: number, now = Date.now()): number | undefined {
  if (!value) return undefined
  let ms: number
  if (/^\d+$/.test(value.trim())) ms = Number(value.trim()) * 1000
  else {
    const t = Date.parse(value)
    if (Number.isNaN(t)) return undefined
    ms = t - now
  }
  return Math.max(0, Math.min(ms, maxMs))
}

/**
 * One HTTP request with redirects followed by hand (at most 5). The Authorization header goes
 * only to the endpoint's own origin: a redirect to any other host (a CDN, S3) is followed
 * without it.
 */
export async function sendRequest(
  pool: AgentPool,
  endpoint: Endpoint,
  url: URL,
  opts: {method?: HttpMethod; headers?: Headers; body?: RequestBody; signal?: AbortSignal; stallMs: number},
): Promise<HttpResponse> {
  let current = url
  for (let hop = 0; ; hop++) {
    const sameOrigin = current.origin === new URL(endpoint.origin).origin
    const headers: Headers = {...opts.headers}
    if (!sameOrigin) delete headers.authorization
    let res: Dispatcher.ResponseData
    try {
      res = await request(current, {
        method: opts.method ?? 'GET',
        headers,
        ...(opts.body !== undefined ? {body: opts.body} : {}),
        dispatcher: pool.agentFor(endpoint),
        signal: opts.signal,
      })
    } catch (err) {
      throw classifyNetworkError(err, {host: current.host}, opts.stallMs)
    }
    const method = opts.method ?? 'GET'
    if ((method === 'GET' || method === 'HEAD') && [301, 302, 303, 307, 308].includes(res.statusCode)) {
      const location = header(res.headers, 'location')
      discardBody(res.body)
      if (!location) throw new RegistryError(`registry ${current.host} sent a redirect without a location`)
      if (hop + 1 > MAX_REDIRECTS) throw new RegistryError(`registry ${endpoint.host}: too many redirects (more than ${MAX_REDIRECTS})`)
      let next: URL
      try {
        next = new URL(location, current)
      } catch {
        throw new RegistryError(`registry ${current.host} redirected to an invalid location`)
      }
      if (next.protocol !== 'https:' && next.protocol !== 'http:') throw new RegistryError(`registry ${current.host} redirected to a ${next.protocol} URL`)
      current = next
      continue
    }
    if (res.statusCode === 400 && current.protocol === 'http:' && header(res.headers, 'content-type') === undefined) {
      const text = await readSmallBody(res.body, 4096)
      if (/HTTP request to an HTTPS server/i.test(text)) throw new HttpsOnlyError(`registry ${current.host} serves HTTPS only`)
      return {statusCode: res.statusCode, headers: res.headers, body: Readable.from([Buffer.from(text)]) as unknown as HttpResponse['body'], url: current}
    }
    return {statusCode: res.statusCode, headers: res.headers, body: res.body, url: current}
  }
}

/**
 * The typed error for a non-2xx status other than 401/403/404 (`text`: the body, already read):
 * 429 and 5xx are transient (retried, honouring Retry-After up to `retryMaxMs`), 406/415 mean no
 * acceptable media type, anything else is a RegistryError with the registry's own words.
 */
export function statusError(res: Pick<HttpResponse, 'statusCode' | 'headers' | 'url'>, text: string, what: string, retryMaxMs: number): CtrError {
  const status = res.statusCode
  const detail = registryErrorMessage(text)
  if (status === 429 || status >= 500) {
    return new TransientError(`registry ${res.url.host} returned ${status} for ${what}${detail ? `: ${detail}` : ''}`, parseRetryAfter(header(res.headers, 'retry-after'), retryMaxMs))
  }
  if (status === 406 || status === 415) return new UnsupportedMediaTypeError(`registry ${res.url.host}: ${what}: no acceptable media type (${status})`)
  return new RegistryError(`registry ${res.url.host} returned ${status} for ${what}${detail ? `: ${detail}` : ''}`)
}

/** Drops a response body without reading it (and without an unhandled 'error' event). */
export function discardBody(body: HttpResponse['body'], err?: Error): void {
  body.on('error', () => {})
  body.destroy(err)
}

/** Reads at most `limit` bytes of a body (error documents); the rest is discarded. */
export async function readSmallBody(body: HttpResponse['body'], limit = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = []
  let total = 0
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer
      if (total + buf.length > limit) {
        chunks.push(buf.subarray(0, limit - total))
        discardBody(body)
        break
      }
      chunks.push(buf)
      total += buf.length
    }
  } catch {
    // an error body that fails to arrive is not worth a second error
  }
  return Buffer.concat(chunks).toString('utf8')
}

/** The registry's own words from an error body ({errors: [{code, message}]}), if any. */
export function registryErrorMessage(text: string): string | undefined {
  try {
    const doc = JSON.parse(text) as {errors?: Array<{code?: string; message?: string}>}
    const first = doc.errors?.[0]
    if (first) return [first.code, first.message].filter(Boolean).join(': ')
  } catch {
    // not JSON
  }
  const line = text.split('\n')[0]?.trim()
  return line ? line.slice(0, 200) : undefined
}
