/**
 * What the image, build, network and volume routes share besides src/api/http.ts: a table of
 * routes under one wildcard (image names contain slashes, so `/images/*` is matched here), the
 * JSON-lines progress answer of docker's pull/push/build/load, and JSON body fields.
 */
import type {ServerResponse} from 'node:http'
import {describeError} from '../errors.js'
import {type ApiCall, ApiError, errorMessage, sendError} from './http.js'
import type {Router} from './router.js'
import type {ApiDeps} from './routes/deps.js'

/** One route of a table: `pattern` is matched against the path without /v1.xx (captures decoded). */
export interface TableRoute {
  method: 'GET' | 'POST' | 'DELETE'
  pattern: RegExp
  handle(call: ApiCall, deps: ApiDeps, params: string[]): Promise<void>
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s)
  } catch {
    return s
  }
}

/** The route of `routes` for a method and path, with its captures. */
export function matchTable(routes: readonly TableRoute[], method: string, path: string): {route: TableRoute; params: string[]} | undefined {
  const m0 = method === 'HEAD' ? 'GET' : method
  for (const route of routes) {
    if (route.method !== m0) continue
    const m = route.pattern.exec(path)
    if (m) return {route, params: m.slice(1).map((p) => safeDecode(p ?? ''))}
  }
  return undefined
}

/** Serves `routes` under `prefix/*` for each of their methods (what find-my-way cannot match: names with slashes). */
export function registerTable(router: Router, deps: ApiDeps, prefix: string, routes: readonly TableRoute[]): void {
  const handler = async (call: ApiCall) => {
    const path = call.path.replace(/\/+$/, '')
    const found = matchTable(routes, call.method, path)
    if (!found) throw new ApiError(501, `ctr-ts does not implement ${call.method} ${call.path}`)
    await found.route.handle(call, deps, found.params)
  }
  const methods = new Set(routes.map((r) => r.method))
  if (methods.has('GET')) router.get(`${prefix}/*`, handler)
  if (methods.has('POST')) router.post(`${prefix}/*`, handler)
  if (methods.has('DELETE')) router.delete(`${prefix}/*`, handler)
}

/** docker's JSON-lines progress answer (pull, push, load, build): 200, then one object per line. */
export interface JsonLines {
  write(obj: unknown): void
  /** The error line docker ends a failed stream with (or the error answer when nothing was sent yet). */
  fail(err: unknown): void
  end(): void
  /** False once the client went away. */
  readonly open: boolean
}

export function jsonLines(res: ServerResponse): JsonLines {
  let open = true
  res.on('close', () => (open = false))
  const start = () => {
    if (!res.headersSent) res.writeHead(200, {'Content-Type': 'application/json'})
  }
  return {
    write(obj) {
      start()
      if (open && !res.writableEnded) res.write(`${JSON.stringify(obj)}\n`)
    },
    fail(err) {
      if (!res.headersSent) {
        sendError(res, err)
        return
      }
      const message = errorMessage(err) || describeError(err).message
      this.write({errorDetail: {message}, error: message})
      this.end()
    },
    end() {
      start()
      if (!res.writableEnded) res.end()
    },
    get open() {
      return open
    },
  }
}

/** A string field of a JSON body ('' and absence are undefined); another type is a 400. */
export function stringField(body: Record<string, unknown>, name: string): string | undefined {
  const v = body[name]
  if (v === undefined || v === null || v === '') return undefined
  if (typeof v !== 'string') throw new ApiError(400, `${name}: expected a string`)
  return v
}

/** A boolean field of a JSON body (absent: false); another type is a 400. */
export function boolField(body: Record<string, unknown>, name: string): boolean {
  const v = body[name]
  if (v === undefined || v === null) return false
  if (typeof v !== 'boolean') throw new ApiError(400, `${name}: expected a boolean`)
  return v
}

/** A map of strings (Labels, DriverOpts) as KEY=VALUE strings. */
export function keyValueField(body: Record<string, unknown>, name: string): string[] {
  const v = body[name]
  if (v === undefined || v === null) return []
  if (typeof v !== 'object' || Array.isArray(v)) throw new ApiError(400, `${name}: expected an object of strings`)
  return Object.entries(v as Record<string, unknown>).map(([k, val]) => `${k}=${String(val)}`)
}

/** A JSON query parameter holding a map of strings (build's buildargs, labels). */
export function jsonMapParam(q: URLSearchParams, name: string): Record<string, string> {
  const raw = q.get(name)
  if (raw === null || raw === '') return {}
  let parsed: unknown
  try {
    parsed = JSON.parse(raw)
  } catch {
    throw new ApiError(400, `invalid ${name}: ${raw}`)
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ApiError(400, `invalid ${name}: expected a JSON object`)
  const out: Record<string, string> = {}
  for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) if (v !== null && v !== undefined) out[k] = String(v)
  return out
}

/** Seconds since the epoch of an ISO date (docker's integer `Created`), 0 when unknown. */
export function unixSeconds(iso: string | undefined): number {
  if (!iso) return 0
  const t = Date.parse(iso)
  return Number.isFinite(t) ? Math.floor(t / 1000) : 0
}
