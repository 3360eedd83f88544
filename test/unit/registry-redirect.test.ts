import {createHash} from 'node:crypto'
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {readSmallBody} from '../../src/registry/http.js'
import {RegistryClient} from '../../src/registry/client.js'
import {transferLimits} from '../../src/registry/limits.js'

// Two loopback servers: the "registry" (Basic auth) redirects blob requests to the "CDN",
// which records the Authorization header it receives.
const content = Buffer.from('blob content')
const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`
let registry: Server
let cdn: Server
let registryHost = ''
let cdnHost = ''
const seen: {registry: Array<string | undefined>; cdn: Array<string | undefined>} = {registry: [], cdn: []}
const basic = `Basic ${Buffer.from('u:p').toString('base64')}`

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return `127.0.0.1:${(s.address() as AddressInfo).port}`
}

beforeAll(async () => {
  cdn = createServer((req, res) => {
    seen.cdn.push(req.headers.authorization)
    if (req.url?.startsWith('/loop')) {
      res.writeHead(302, {location: `http://${cdnHost}/loop${Number(req.url.slice(5) || 0) + 1}`}).end()
      return
    }
    res.writeHead(200, {'content-length': String(content.length)}).end(content)
  })
  registry = createServer((req, res) => {
    seen.registry.push(req.headers.authorization)
    if (req.headers.authorization !== basic) {
      res.writeHead(401, {'www-authenticate': 'Basic realm="test"'}).end()
      return
    }
    if (req.url?.includes('/blobs/')) {
      const loop = req.url.includes('loop')
      res.writeHead(307, {location: loop ? `http://${cdnHost}/loop0` : `http://${cdnHost}/data?sig=1`}).end()
      return
    }
    res.writeHead(404).end()
  })
  cdnHost = await listen(cdn)
  registryHost = await listen(registry)
})
afterAll(async () => {
  await Promise.all([new Promise((r) => cdn.close(r)), new Promise((r) => registry.close(r))])
})

const client = (repository = 'a/b') =>
  new RegistryClient({
    config: {registries: {}},
    registry: registryHost,
    repository,
    credentials: async () => ({username: 'u', password: 'p'}),
    limits: {...transferLimits({}), maxTries: 1},
    env: {HOME: '/nonexistent'},
  })

describe('registry redirects', () => {
  it('follow a redirect to another host without sending Authorization there', async () => {
    const c = client()
    const text = await c.fetchBlob(digest, async (res) => readSmallBody(res.body))
    await c.close()
    expect(text).toBe('blob content')
    expect(seen.registry).toContain(basic)
    expect(seen.cdn.length).toBeGreaterThan(0)
    expect(seen.cdn.every((h) => h === undefined)).toBe(true)
  })

  it('stop after 5 redirects', async () => {
    const c = client('loop/x')
    await expect(c.fetchBlob(digest, async (res) => readSmallBody(res.body))).rejects.toThrow(/too many redirects/)
    await c.close()
  })
})
