/**
 * The registry client's HTTP layer loads undici's Agent and request API by path
 * (src/registry/undici-parts.ts), not through undici's index: these still load from the
 * installed undici and behave as `undici.request` does (origin, path with query, method, body,
 * headers, abort); node:tls is read only for a CA file.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ConfigError} from '../../src/errors.js'
import {AgentPool, sendRequest, type Endpoint} from '../../src/registry/http.js'
import {transferLimits} from '../../src/registry/limits.js'
import {Agent, request} from '../../src/registry/undici-parts.js'

let server: Server
let origin = ''
const seen: Array<{method?: string; url?: string; body: string; header?: string | string[]}> = []
const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-http-'))

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8').on('data', (d: string) => (body += d))
    req.on('end', () => {
      seen.push({method: req.method, url: req.url, body, header: req.headers['x-test']})
      if (req.url === '/slow') return // never answers: the caller aborts
      res.writeHead(200, {'content-type': 'text/plain'}).end(`${req.method} ${req.url}`)
    })
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  server.closeAllConnections()
  await new Promise<void>((r) => server.close(() => r()))
  rmSync(dir, {recursive: true, force: true})
})

describe('undici parts', () => {
  it('request: origin, path with its query, method, headers and body, through the given agent', async () => {
    const agent = new Agent()
    try {
      const res = await request(new URL(`${origin}/v2/x/tags/list?n=2&last=a`), {method: 'POST', headers: {'x-test': 'yes'}, body: 'hello', dispatcher: agent})
      expect(res.statusCode).toBe(200)
      expect(await res.body.text()).toBe('POST /v2/x/tags/list?n=2&last=a')
      expect(seen.at(-1)).toEqual({method: 'POST', url: '/v2/x/tags/list?n=2&last=a', body: 'hello', header: 'yes'})
      const ctrl = new AbortController()
      const pending = request(new URL(`${origin}/slow`), {method: 'GET', dispatcher: agent, signal: ctrl.signal})
      setTimeout(() => ctrl.abort(), 50)
      await expect(pending).rejects.toThrow()
    } finally {
      await agent.destroy()
    }
  })

  it('sendRequest through the AgentPool; a CA file is read (with the system roots), a missing one is a ConfigError', async () => {
    const pool = new AgentPool(transferLimits())
    const endpoint: Endpoint = {origin, host: origin.slice(7), registry: origin.slice(7), mirror: false, insecureTls: false}
    try {
      const res = await sendRequest(pool, endpoint, new URL(`${origin}/v2/`), {stallMs: 5_000})
      expect(res.statusCode).toBe(200)
      expect(await res.body.text()).toBe('GET /v2/')
      const ca = join(dir, 'ca.pem')
      writeFileSync(ca, '')
      expect(pool.agentFor({...endpoint, origin: 'https://example.invalid', caFile: ca})).toBeInstanceOf(Agent)
      expect(() => pool.agentFor({...endpoint, origin: 'https://other.invalid', caFile: join(dir, 'missing.pem')})).toThrow(ConfigError)
    } finally {
      await pool.close()
    }
  })
})
