/**
 * Request and response helpers of the Docker Engine API service: JSON bodies (with a size
 * limit), docker's error bodies (`{"message": ...}`) and status codes, query parameters.
 */
import type {IncomingMessage, ServerResponse} from 'node:http'
import type {Duplex} from 'node:stream'
import {CommandNotFoundError, CommandNotInvokableError, ConflictError, CtrError, describeError, NotFoundError, UsageError} from '../errors.js'

/** An error with docker's HTTP status; its message becomes `{"message": ...}`. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string) {
    super(message)
  }
}

/** The largest JSON body the service reads (a container create is a few KiB). */
export const MAX_JSON_BODY = 4 * 1024 * 1024

/** One API request: the parsed URL, the route's parameters, and the connection when upgraded. */
export interface ApiCall {
  req: IncomingMessage
  res: ServerResponse
  method: string
  /** The path without the `/v1.xx` prefix. */
  path: string
  /** The `1.xx` of the prefix, when there was one. */
  apiVersion?: string
  params: Record<string, string | undefined>
  query: URLSearchParams
  /** Set for a request that asked for `Upgrade: tcp` (attach, exec start): the raw connection. */
  upgrade?: {socket: Duplex; head: Buffer}
}

/** docker's status for an error of ctr-ts's engine: 404 unknown objects, 409 conflicts, 400 bad input, 500 the rest. */
export function errorStatus(err: unknown): number {
  if (err instanceof ApiError) return err.status
  if (err instanceof NotFoundError) return 404
  if (err instanceof ConflictError) return 409
  if (err instanceof UsageError) return 400
  if (err instanceof CommandNotFoundError || err instanceof CommandNotInvokableError) return 400
  if (err instanceof CtrError) return 500
  return 500
}

/** docker's wording where ctr-ts's differs (`No such container: X`). */
export function errorMessage(err: unknown): string {
  if (err instanceof ApiError) return err.message
  const msg = describeError(err).message
  return msg.replace(/^no such container: /, 'No such container: ').replace(/^no such image: /i, 'No such image: ')
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body)
  res.writeHead(status, {'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text)})
  res.end(text)
}

export function sendError(res: ServerResponse, err: unknown): void {
  const status = errorStatus(err)
  if (res.headersSent) {
    // a stream already started: nothing to say in HTTP any more; end it
    res.destroy()
    return
  }
  sendJson(res, status, {message: errorMessage(err)})
}

export function sendNoContent(res: ServerResponse, status = 204): void {
  res.writeHead(status)
  res.end()
}

/** Reads the request body (at most `limit` bytes: 413 beyond) from the request or, when upgraded, from the connection. */
export async function readBody(call: ApiCall, limit = MAX_JSON_BODY): Promise<Buffer> {
  const declared = call.req.headers['content-length']
  if (declared !== undefined && Number(declared) > limit) throw new ApiError(413, `request body too large (${declared} bytes; the limit is ${limit})`)
  if (call.upgrade) return readUpgradedBody(call.upgrade, Number(declared ?? 0))
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of call.req as AsyncIterable<Buffer>) {
    size += chunk.length
    if (size > limit) {
      call.req.resume()
      throw new ApiError(413, `request body too large (more than ${limit} bytes)`)
    }
    chunks.push(chunk)
  }
  return Buffer.concat(chunks)
}

/** After an upgrade, the body's Content-Length bytes come first on the connection (part of them in `head`). */
function readUpgradedBody(up: {socket: Duplex; head: Buffer}, length: number): Promise<Buffer> {
  if (up.head.length >= length) {
    const body = up.head.subarray(0, length)
    const rest = up.head.subarray(length)
    up.head = Buffer.alloc(0)
    if (rest.length) up.socket.unshift(rest)
    return Promise.resolve(body)
  }
  return new Promise((resolve, reject) => {
    const chunks = [up.head]
    let size = up.head.length
    up.head = Buffer.alloc(0)
    const onData = (chunk: Buffer) => {
      chunks.push(chunk)
      size += chunk.length
      if (size >= length) {
        cleanup()
        up.socket.pause()
        const all = Buffer.concat(chunks)
        if (all.length > length) up.socket.unshift(all.subarray(length))
        resolve(all.subarray(0, length))
      }
    }
    const onEnd = () => {
      cleanup()
      reject(new ApiError(400, 'the connection ended inside the request body'))
    }
    const cleanup = () => {
      up.socket.off('data', onData)
      up.socket.off('end', onEnd)
    }
    up.socket.on('data', onData)
    up.socket.on('end', onEnd)
  })
}

/** The body as JSON: an empty body is `{}`; bad JSON is a 400 as docker's. */
export async function readJson<T = Record<string, unknown>>(call: ApiCall): Promise<T> {
  const body = await readBody(call)
  const text = body.toString('utf8').trim()
  if (text === '') return {} as T
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch (err) {
    throw new ApiError(400, `invalid JSON: ${(err as Error).message}`)
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new ApiError(400, 'invalid JSON: the body must be an object')
  return value as T
}

/** docker's boolean query values: 1, true, True (anything else, or absent, is false unless `dflt`). */
export function queryBool(q: URLSearchParams, name: string, dflt = false): boolean {
  const v = q.get(name)
  if (v === null || v === '') return dflt
  return v === '1' || v.toLowerCase() === 'true'
}

export function queryInt(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name)
  if (v === null || v === '') return undefined
  const n = Number(v)
  if (!Number.isInteger(n)) throw new ApiError(400, `invalid value for ${name}: ${v}`)
  return n
}

/**
 * docker's `filters` query parameter: JSON `{"key": ["v", ...]}` or the older `{"key": {"v": true}}`,
 * turned into the CLI's `key=value` strings (src/format/filters.ts reads those).
 */
export function queryFilters(q: URLSearchParams): string[] {
  const raw = q.get('filters')
  if (raw === null || raw === '') return []
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new ApiError(400, `invalid filters: ${raw}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApiError(400, `invalid filters: ${raw}`)
  const out: string[] = []
  for (const [key, values] of Object.entries(parsed as Record<string, unknown>)) {
    const list = Array.isArray(values) ? values : values && typeof values === 'object' ? Object.keys(values).filter((k) => (values as Record<string, unknown>)[k]) : [values]
    for (const v of list) out.push(`${key}=${String(v)}`)
  }
  return out
}
