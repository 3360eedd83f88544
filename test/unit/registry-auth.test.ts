/**
 * The registry authorizer against small loopback servers (a registry and a token realm written
 * here, speaking the real HTTP): 401 with Basic and Bearer challenges, 403 from the registry and
 * from the token server, `login`'s ping, and token renewal once a token has expired.
 */
import {createHash} from 'node:crypto'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import {UnauthorizedError} from '../../src/errors.js'
import {Authorizer} from '../../src/registry/authorizer.js'
import {RegistryClient} from '../../src/registry/client.js'
import type {Credentials} from '../../src/registry/credentials.js'
import {AgentPool, readSmallBody, type Endpoint} from '../../src/registry/http.js'
import {transferLimits} from '../../src/registry/limits.js'

type Handler = (req: IncomingMessage, res: ServerResponse) => void
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`
const content = Buffer.from('layer bytes')
const digest = `sha256:${createHash('sha256').update(content).digest('hex')}`

let registry: Server
let realm: Server
let registryHost = ''
let realmHost = ''
let onRegistry: Handler = (_req, res) => void res.writeHead(500).end()
let onRealm: Handler = (_req, res) => void res.writeHead(500).end()
const seen: {registry: Array<{url: string; authorization?: string}>; realm: URL[]} = {registry: [], realm: []}

const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  return `127.0.0.1:${(s.address() as AddressInfo).port}`
}

beforeAll(async () => {
  registry = createServer((req, res) => {
    seen.registry.push({url: req.url ?? '', authorization: req.headers.authorization})
    onRegistry(req, res)
  })
  realm = createServer((req, res) => {
    seen.realm.push(new URL(req.url ?? '/', `http://${realmHost}`))
    onRealm(req, res)
  })
  registryHost = await listen(registry)
  realmHost = await listen(realm)
})
afterAll(async () => {
  await Promise.all([new Promise((r) => registry.close(r)), new Promise((r) => realm.close(r))])
})
afterEach(() => {
  seen.registry = []
  seen.realm = []
})

const limits = {...transferLimits({}), maxTries: 1}
const client = (creds?: Credentials, repository: string | undefined = 'a/b') =>
  new RegistryClient({config: {registries: {}}, registry: registryHost, repository, credentials: async () => creds, limits, env: {}})

const fetchText = async (c: RegistryClient) => {
  try {
    return await c.fetchBlob(digest, async (res) => readSmallBody(res.body))
  } finally {
    await c.close()
  }
}
const rejection = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => undefined,
    (err: unknown) => err,
  )

/** A registry requiring Basic u:p. */
const basicRegistry: Handler = (req, res) => {
  if (req.headers.authorization !== basic('u', 'p')) return void res.writeHead(401, {'www-authenticate': 'Basic realm="test"'}).end()
  res.writeHead(200, {'content-length': String(content.length)}).end(content)
}

/** A registry requiring `Bearer <token>` for a token in `valid`, challenging with the realm. */
const bearerRegistry =
  (valid: Set<string>): Handler =>
  (req, res) => {
    const token = req.headers.authorization?.replace(/^Bearer /, '')
    if (!token || !valid.has(token)) {
      const scope = req.url === '/v2/' ? '' : ',scope="repository:a/b:pull"'
      return void res.writeHead(401, {'www-authenticate': `Bearer realm="http://${realmHost}/token",service="reg"${scope}`}).end()
    }
    res.writeHead(200, {'content-length': String(content.length)}).end(content)
  }

/** A token realm handing out numbered tokens to u:p (and to anonymous callers when `anonymous`). */
const tokenRealm = (valid: Set<string>, opts: {anonymous?: boolean; expiresIn?: number} = {}): Handler => {
  let issued = 0
  return (req, res) => {
    const auth = req.headers.authorization
    if (auth ? auth !== basic('u', 'p') : !opts.anonymous) {
      return void res.writeHead(401, {'content-type': 'application/json'}).end(JSON.stringify({errors: [{code: 'UNAUTHORIZED', message: 'bad credentials'}]}))
    }
    const token = `t${++issued}`
    valid.add(token)
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({token, expires_in: opts.expiresIn ?? 300}))
  }
}

describe('registry authorizer: Basic', () => {
  it('answers a Basic challenge with the credentials of credentials(host), once', async () => {
    onRegistry = basicRegistry
    const asked: string[] = []
    const c = new RegistryClient({
      config: {registries: {}},
      registry: registryHost,
      repository: 'a/b',
      credentials: async (host) => {
        asked.push(host)
        return {username: 'u', password: 'p'}
      },
      limits,
      env: {},
    })
    const first = await c.fetchBlob(digest, async (res) => readSmallBody(res.body))
    const second = await c.fetchBlob(digest, async (res) => readSmallBody(res.body))
    await c.close()
    expect([first, second]).toEqual(['layer bytes', 'layer bytes'])
    expect(asked).toEqual([registryHost])
    // 401, answered; then the cached header goes with the next request at once.
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined, basic('u', 'p'), basic('u', 'p')])
  })

  it('without credentials a Basic 401 is one UnauthorizedError saying so', async () => {
    onRegistry = basicRegistry
    const err = await rejection(fetchText(client(undefined)))
    expect(err).toBeInstanceOf(UnauthorizedError)
    expect((err as Error).message).toBe(`unauthorized: ${registryHost}/a/b: authentication required (no credentials for ${registryHost})`)
  })

  it('wrong credentials: asked once again, then refused naming the user', async () => {
    onRegistry = basicRegistry
    const err = await rejection(fetchText(client({username: 'u', password: 'wrong'})))
    expect(err).toBeInstanceOf(UnauthorizedError)
    expect((err as Error).message).toMatch(/access denied for user u$/)
    expect(seen.registry).toHaveLength(2)
  })
})

describe('registry authorizer: Bearer', () => {
  it('fetches a token for the repository scope, with Basic auth to the realm and the account', async () => {
    const valid = new Set<string>()
    onRegistry = bearerRegistry(valid)
    onRealm = tokenRealm(valid)
    expect(await fetchText(client({username: 'u', password: 'p'}))).toBe('layer bytes')
    expect(seen.realm).toHaveLength(1)
    expect(seen.realm[0]!.searchParams.get('scope')).toBe('repository:a/b:pull')
    expect(seen.realm[0]!.searchParams.get('service')).toBe('reg')
    expect(seen.realm[0]!.searchParams.get('account')).toBe('u')
    expect(seen.registry.at(-1)!.authorization).toBe('Bearer t1')
  })

  it('anonymous tokens when there are no credentials', async () => {
    const valid = new Set<string>()
    onRegistry = bearerRegistry(valid)
    onRealm = tokenRealm(valid, {anonymous: true})
    expect(await fetchText(client(undefined))).toBe('layer bytes')
    expect(seen.realm[0]!.searchParams.has('account')).toBe(false)
  })

  it('a token server refusing the credentials (401) is an UnauthorizedError with its words', async () => {
    const valid = new Set<string>()
    onRegistry = bearerRegistry(valid)
    onRealm = tokenRealm(valid)
    const err = await rejection(fetchText(client({username: 'u', password: 'nope'})))
    expect(err).toBeInstanceOf(UnauthorizedError)
    expect((err as Error).message).toBe(`unauthorized: ${registryHost}/a/b: authentication as u failed at ${realmHost} (UNAUTHORIZED: bad credentials)`)
  })

  it('a token server answering 403 is an UnauthorizedError too', async () => {
    onRegistry = bearerRegistry(new Set())
    onRealm = (_req, res) => void res.writeHead(403).end('forbidden')
    const err = await rejection(fetchText(client(undefined)))
    expect(err).toBeInstanceOf(UnauthorizedError)
    expect((err as Error).message).toBe(`unauthorized: ${registryHost}/a/b: anonymous access refused at ${realmHost} (forbidden)`)
  })

  it('a token the registry stops accepting is replaced once by a fresh one', async () => {
    const valid = new Set<string>()
    onRegistry = bearerRegistry(valid)
    onRealm = tokenRealm(valid)
    const c = client({username: 'u', password: 'p'})
    expect(await c.fetchBlob(digest, async (res) => readSmallBody(res.body))).toBe('layer bytes')
    valid.delete('t1') // revoked before its announced expiry
    expect(await c.fetchBlob(digest, async (res) => readSmallBody(res.body))).toBe('layer bytes')
    await c.close()
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined, 'Bearer t1', 'Bearer t1', 'Bearer t2'])
  })
})

describe('a registry answering 403', () => {
  it('is one UnauthorizedError line, not "[object Promise]"', async () => {
    onRegistry = (_req, res) =>
      void res.writeHead(403, {'content-type': 'application/json'}).end(JSON.stringify({errors: [{code: 'DENIED', message: 'requested access to the resource is denied'}]}))
    const err = await rejection(fetchText(client({username: 'u', password: 'p'})))
    expect(err).toBeInstanceOf(UnauthorizedError)
    expect((err as Error).message).toBe(`unauthorized: blob ${digest}: access denied for user u (DENIED: requested access to the resource is denied)`)
    const manifest = await rejection(client(undefined).getManifest('latest', 'x/a/b:latest'))
    expect((manifest as Error).message).toBe(`unauthorized: x/a/b:latest: access denied (no credentials for ${registryHost}) (DENIED: requested access to the resource is denied)`)
  })
})

describe('ping (login)', () => {
  it('Bearer: asks the realm for a scope-less token with the account, then GET /v2/ with it', async () => {
    const valid = new Set<string>()
    onRegistry = bearerRegistry(valid)
    onRealm = tokenRealm(valid)
    const c = client({username: 'u', password: 'p'}, undefined)
    await c.ping()
    await c.close()
    expect(seen.realm).toHaveLength(1)
    expect(seen.realm[0]!.searchParams.has('scope')).toBe(false)
    expect(seen.realm[0]!.searchParams.get('account')).toBe('u')
    expect(seen.registry.map((r) => [r.url, r.authorization])).toEqual([
      ['/v2/', undefined],
      ['/v2/', 'Bearer t1'],
    ])
  })

  it('Basic: refused credentials are an UnauthorizedError; accepted ones resolve', async () => {
    onRegistry = basicRegistry
    await expect(client({username: 'u', password: 'x'}, undefined).ping()).rejects.toBeInstanceOf(UnauthorizedError)
    await expect(client({username: 'u', password: 'p'}, undefined).ping()).resolves.toBeUndefined()
  })

  it('a registry without authentication accepts anything', async () => {
    onRegistry = (_req, res) => void res.writeHead(200, {'content-type': 'application/json'}).end('{}')
    await expect(client({username: 'any', password: 'thing'}, undefined).ping()).resolves.toBeUndefined()
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined])
  })
})

describe('token renewal', () => {
  it('renews an expired token from the known challenge, without another 401', async () => {
    const valid = new Set<string>()
    onRegistry = bearerRegistry(valid)
    onRealm = tokenRealm(valid, {expiresIn: 60})
    let now = 1_000_000
    const pool = new AgentPool(limits)
    const auth = new Authorizer({pool, limits, credentials: async () => ({username: 'u', password: 'p'}), now: () => now})
    const ep: Endpoint = {origin: `http://${registryHost}`, host: registryHost, registry: registryHost, mirror: false, insecureTls: false}
    const scope = 'repository:a/b:pull'
    try {
      expect(await auth.authorize(ep, scope, 'x')).toBeUndefined() // nothing known yet
      const challenge = {headers: {'www-authenticate': `Bearer realm="http://${realmHost}/token",service="reg"`}}
      expect(await auth.challenged(ep, scope, challenge, 'x')).toBe('Bearer t1')
      now += 49_000 // announced 60 s; renewed 10 s early
      expect(await auth.authorize(ep, scope, 'x')).toBe('Bearer t1')
      expect(seen.realm).toHaveLength(1)
      now += 2_000
      expect(await auth.authorize(ep, scope, 'x')).toBe('Bearer t2')
      expect(seen.realm).toHaveLength(2)
      // Another scope has its own token.
      expect(await auth.authorize(ep, 'repository:c/d:pull', 'x')).toBe('Bearer t3')
      expect(seen.realm.at(-1)!.searchParams.get('scope')).toBe('repository:c/d:pull')
    } finally {
      await pool.close()
    }
  })
})

describe('scheme of a loopback registry', () => {
  it('HTTPS first; after its handshake fails, plain HTTP for the rest of the client', async () => {
    onRegistry = basicRegistry
    let handshakes = 0
    const onClientError = (_err: Error, socket: import('node:stream').Duplex) => {
      handshakes++
      socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    }
    registry.on('clientError', onClientError)
    try {
      const c = client({username: 'u', password: 'p'})
      expect(await c.fetchBlob(digest, async (res) => readSmallBody(res.body))).toBe('layer bytes')
      expect(await c.fetchBlob(digest, async (res) => readSmallBody(res.body))).toBe('layer bytes')
      await c.close()
    } finally {
      registry.off('clientError', onClientError)
    }
    expect(handshakes).toBe(1)
    expect(seen.registry.map((r) => r.authorization)).toEqual([undefined, basic('u', 'p'), basic('u', 'p')])
  })
})
