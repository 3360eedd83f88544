/**
 * The service's router: find-my-way over docker's paths, with or without the `/v1.xx` prefix.
 * Route modules (src/api/routes/) register their handlers through this interface; the server
 * gives every request (and every upgraded connection) to `dispatch`.
 */
import FindMyWay, {type HTTPVersion, type Instance} from 'find-my-way'
import {type ApiCall, ApiError, sendError} from './http.js'

export type Handler = (call: ApiCall) => Promise<void> | void

type Method = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'DELETE'

/** What a route module sees: one method per HTTP verb, paths in find-my-way's syntax (`/containers/:id/json`, `/images/*`). */
export interface Router {
  get(path: string, handler: Handler): void
  head(path: string, handler: Handler): void
  post(path: string, handler: Handler): void
  put(path: string, handler: Handler): void
  delete(path: string, handler: Handler): void
}

const VERSION_PREFIX = /^\/v(\d+\.\d+)(?=\/)/

export class ApiRouter implements Router {
  private readonly fmw: Instance<HTTPVersion.V1> = FindMyWay({ignoreTrailingSlash: true, ignoreDuplicateSlashes: true, maxParamLength: 1000})

  get(path: string, handler: Handler): void {
    this.on('GET', path, handler)
  }
  head(path: string, handler: Handler): void {
    this.on('HEAD', path, handler)
  }
  post(path: string, handler: Handler): void {
    this.on('POST', path, handler)
  }
  put(path: string, handler: Handler): void {
    this.on('PUT', path, handler)
  }
  delete(path: string, handler: Handler): void {
    this.on('DELETE', path, handler)
  }

  private on(method: Method, path: string, handler: Handler): void {
    this.fmw.on(method, path, () => undefined, {handler})
  }

  /** Routes one request; an unknown endpoint is docker's 501-style refusal naming it. */
  async dispatch(call: Omit<ApiCall, 'path' | 'params' | 'query' | 'method'>): Promise<void> {
    const url = new URL(call.req.url ?? '/', 'http://docker')
    let path = url.pathname
    let apiVersion: string | undefined
    const m = VERSION_PREFIX.exec(path)
    if (m) {
      apiVersion = m[1]
      path = path.slice(m[0].length)
    }
    const method = (call.req.method ?? 'GET').toUpperCase()
    const full: ApiCall = {...call, method, path, apiVersion, params: {}, query: url.searchParams}
    const found = this.fmw.find(method as Method, path)
    try {
      if (!found) throw new ApiError(501, `ctr-ts does not implement ${method} ${path}`)
      full.params = decodeParams(found.params)
      await (found.store as {handler: Handler}).handler(full)
    } catch (err) {
      sendError(full.res, err)
    }
  }
}

function decodeParams(params: Record<string, string | undefined>): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {}
  for (const [k, v] of Object.entries(params)) out[k] = v
  return out
}
