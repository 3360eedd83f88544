/**
 * The two parts of undici the registry client uses: the Agent (a connection pool per origin,
 * with its timeouts and TLS options) and the request API, loaded by path. undici's index loads
 * the whole package: fetch, WebSocket, EventSource, the cache stores, the mock agents and every
 * interceptor, ~2.5x what these two need (`require('undici')` 120-140 ms against 48-66 ms for
 * them on a 2-core VM, without the compile cache), and every pull pays that load before it can
 * ask for the manifest. Both paths have been undici's layout since 6.x; package-lock.json pins
 * the version, and test/unit/registry-http.test.ts checks they still load.
 */
import Agent from 'undici/lib/dispatcher/agent.js'
import requestWith from 'undici/lib/api/api-request.js'
import type {Dispatcher} from 'undici'

export {Agent}

/** undici's `request(url, {dispatcher, ...})`, for a URL and our own dispatcher (no global one). */
export function request(url: URL, opts: Omit<Dispatcher.RequestOptions, 'origin' | 'path'> & {dispatcher: Dispatcher}): Promise<Dispatcher.ResponseData> {
  const {dispatcher, ...rest} = opts
  return requestWith.call(dispatcher, {...rest, origin: url.origin, path: `${url.pathname}${url.search}`})
}
