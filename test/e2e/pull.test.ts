/**
 * `ctr-ts pull` against the real test registries (plain and token auth), mirrors, and a small
 * misbehaving registry written here (stalls, trickles, lies about sizes, endless manifests,
 * transient 500s), checking the store against the pushed digests.
 */
import {execFile} from 'node:child_process'
import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer, type IncomingMessage, type Server, type ServerResponse} from 'node:http'
import {type AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, describe, expect, it} from 'vitest'
import type {ImageRecord} from '../../src/oci/types.js'
import {CLI, ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv, type FixtureInfo} from '../harness/env.js'

const env = testEnv()
const roots: TempRoot[] = []
function newRoot(): TempRoot {
  const t = tempRoot()
  roots.push(t)
  return t
}
afterAll(async () => {
  await Promise.all(roots.map((r) => r.cleanup()))
})

const hex = (digest: string) => digest.replace(/^sha256:/, '')
const sha256File = (path: string) => `sha256:${createHash('sha256').update(readFileSync(path)).digest('hex')}`
const blobFile = (t: TempRoot, digest: string) => join(t.root, 'blobs', 'sha256', hex(digest))

function records(t: TempRoot): ImageRecord[] {
  const dir = join(t.root, 'images')
  if (!existsSync(dir)) return []
  return readdirSync(dir)
    .filter((n) => n.endsWith('.json'))
    .map((n) => JSON.parse(readFileSync(join(dir, n), 'utf8')) as ImageRecord)
}

/** Every blob file hashes to its name, and no temporary file is visible. */
function assertStoreConsistent(t: TempRoot): void {
  const blobs = join(t.root, 'blobs', 'sha256')
  if (existsSync(blobs)) for (const n of readdirSync(blobs)) expect(sha256File(join(blobs, n))).toBe(`sha256:${n}`)
  const ingest = join(t.root, 'ingest')
  if (existsSync(ingest)) expect(readdirSync(ingest)).toEqual([])
  const images = join(t.root, 'images')
  if (existsSync(images)) for (const n of readdirSync(images)) expect(n).toMatch(/^[a-f0-9]{64}\.json$/)
}

function assertPulled(t: TempRoot, f: FixtureInfo, ref = f.ref): ImageRecord {
  for (const d of [f.manifestDigest, f.configDigest, ...f.layerDigests, ...(f.indexDigest ? [f.indexDigest] : [])]) {
    expect(existsSync(blobFile(t, d)), `blob ${d}`).toBe(true)
    expect(sha256File(blobFile(t, d))).toBe(d)
  }
  const rec = records(t).find((r) => r.ref === ref)
  expect(rec, `record for ${ref}`).toBeDefined()
  expect(rec!.id).toBe(f.configDigest)
  expect(rec!.manifestDigest).toBe(f.manifestDigest)
  expect(rec!.indexDigest).toBe(f.indexDigest)
  expect(rec!.layers.map((l) => l.digest)).toEqual(f.layerDigests)
  expect(rec!.layers.map((l) => l.diffId)).toEqual(f.diffIds)
  expect(rec!.size).toBe(rec!.layers.reduce((n, l) => n + l.size, 0))
  for (const d of f.diffIds) expect(existsSync(join(t.root, 'layers', hex(d))), `layer dir ${d}`).toBe(true)
  assertStoreConsistent(t)
  return rec!
}

describe('pull from the plain registry', () => {
  for (const key of ['busybox', 'multilayer-gzip', 'multilayer-zstd', 'multilayer-none', 'multilayer-docker', 'index']) {
    it(`pulls ${key} and stores it verified`, async () => {
      const f = env.fixtures[key]!
      const t = newRoot()
      const res = await ctr(['pull', f.ref], {env: t.env})
      expect(res.stderr).not.toMatch(/ctr-ts:/)
      expect(res.exitCode).toBe(0)
      expect(res.stdout.trim().split('\n').at(-1)).toBe(f.ref)
      expect(res.stderr).toContain(`Pulled ${f.ref} ${f.indexDigest ?? f.manifestDigest}`)
      for (const d of f.layerDigests) expect(res.stderr).toContain(`${hex(d).slice(0, 12)}: done`)
      assertPulled(t, f)
    })
  }

  it('pulls by digest and by name:tag@digest', async () => {
    const f = env.fixtures.busybox!
    const name = f.ref.slice(0, f.ref.lastIndexOf(':'))
    const t = newRoot()
    const byDigest = `${name}@${f.manifestDigest}`
    const res = await ctr(['pull', '-q', byDigest], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    expect(res.stdout.trim()).toBe(byDigest)
    expect(res.stderr).toBe('')
    assertPulled(t, f, byDigest)
    const both = `${f.ref}@${f.manifestDigest}`
    const res2 = await ctr(['pull', '-q', both], {env: t.env})
    expect(res2.exitCode, res2.stderr).toBe(0)
    assertPulled(t, f, both)
  })

  it('chooses the platform from --platform, then the configuration, and skips attestations', async () => {
    const arm = env.fixtures['index-arm64']!
    const t = newRoot()
    const res = await ctr(['pull', '--platform', 'linux/arm64', env.fixtures.index!.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    const rec = assertPulled(t, arm)
    expect(rec.platform).toEqual({os: 'linux', architecture: 'arm64', variant: 'v8'})
    const t2 = newRoot()
    t2.writeConfig({registries: {}, platform: 'linux/arm64'})
    expect((await ctr(['pull', '-q', env.fixtures.index!.ref], {env: t2.env})).exitCode).toBe(0)
    expect(records(t2)[0]!.manifestDigest).toBe(arm.manifestDigest)
    const att = env.fixtures['index-attestation']!
    expect(existsSync(blobFile(t, att.manifestDigest))).toBe(false)
  })

  it('says which platforms exist when none matches', async () => {
    const t = newRoot()
    const res = await ctr(['pull', '--platform', 'linux/s390x', env.fixtures.index!.ref], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(/^ctr-ts: no matching manifest for linux\/s390x .*available: linux\/amd64, linux\/arm64\/v8\)$/)
    expect(records(t)).toEqual([])
  })

  it('pulls Docker manifest lists', async () => {
    const t = newRoot()
    const res = await ctr(['pull', '-q', '--platform', 'linux/arm64', env.fixtures['index-docker']!.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    assertPulled(t, env.fixtures['index-docker-arm64']!)
  })

  it('does not download blobs it already has (resumes after an interruption)', async () => {
    const f = env.fixtures['multilayer-gzip']!
    const t = newRoot()
    expect((await ctr(['pull', '-q', f.ref], {env: t.env})).exitCode).toBe(0)
    const again = await ctr(['pull', f.ref], {env: t.env})
    expect(again.exitCode, again.stderr).toBe(0)
    for (const d of f.layerDigests) expect(again.stderr).toContain(`${hex(d).slice(0, 12)}: already exists`)
    expect(again.stderr).not.toMatch(/downloading/)
  })

  it('survives being killed mid-pull: the next pull just works', async () => {
    const f = env.fixtures['multilayer-zstd']!
    const t = newRoot()
    // an ingest file of a dead process and a pull killed mid-way: both are cleaned by the next pull
    mkdirSync(join(t.root, 'ingest'), {recursive: true})
    writeFileSync(join(t.root, 'ingest', `${hex(f.layerDigests[0]!)}.4194999.abc.part`), 'partial')
    const {ctrSpawn} = await import('../harness/cli.js')
    const child = ctrSpawn(['pull', f.ref], {env: t.env})
    const closed = new Promise((r) => child.once('close', r)) // it may finish before the kill
    await new Promise((r) => setTimeout(r, 400))
    child.kill('SIGKILL')
    await closed
    for (const r of records(t)) expect(r.ref).toBe(f.ref) // either nothing or the complete record
    const res = await ctr(['pull', '-q', f.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    assertPulled(t, f)
  })

  it('two concurrent pulls of the same image both succeed', async () => {
    const f = env.fixtures['multilayer-none']!
    const t = newRoot()
    const [a, b] = await Promise.all([ctr(['pull', '-q', f.ref], {env: t.env}), ctr(['pull', '-q', f.ref], {env: t.env})])
    expect(a.exitCode, a.stderr).toBe(0)
    expect(b.exitCode, b.stderr).toBe(0)
    assertPulled(t, f)
  })
})

describe('errors', () => {
  it('rejects a bad reference', async () => {
    const t = newRoot()
    const res = await ctr(['pull', 'Not/Valid::ref'], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim().split('\n')).toHaveLength(1)
    expect(res.stderr).toMatch(/^ctr-ts: invalid reference format/)
  })

  it('reports an unknown tag and an unknown repository', async () => {
    const t = newRoot()
    const ref = `${env.plainRegistry}/fixtures/busybox:nope`
    const res = await ctr(['pull', ref], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim().split('\n').at(-1)).toBe(`ctr-ts: manifest unknown: ${ref}`)
    const res2 = await ctr(['pull', `${env.plainRegistry}/no/such/repo`], {env: t.env})
    expect(res2.stderr).toContain(`manifest unknown: ${env.plainRegistry}/no/such/repo:latest`)
    expect(records(t)).toEqual([])
  })

  it('reports an unreachable registry with its host', async () => {
    const port = await closedPort()
    const t = newRoot()
    const started = Date.now()
    const res = await ctr(['pull', `127.0.0.1:${port}/a/b`], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim().split('\n').at(-1)).toBe(`ctr-ts: registry 127.0.0.1:${port} unreachable: ECONNREFUSED`)
    expect(Date.now() - started).toBeLessThan(15_000)
  })
})

describe('token auth', () => {
  it('pulls public/* anonymously', async () => {
    const t = newRoot()
    const res = await ctr(['pull', '-q', env.fixtures.public!.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    assertPulled(t, env.fixtures.public!)
  })

  it('refuses private/* without credentials and with a wrong password', async () => {
    const t = newRoot()
    const res = await ctr(['pull', env.fixtures.private!.ref], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(/^ctr-ts: unauthorized: /)
    t.writeConfig({registries: {[env.authRegistry]: {insecure: true, username: 'tester', password: 'wrong'}}})
    const res2 = await ctr(['pull', env.fixtures.private!.ref], {env: t.env})
    expect(res2.exitCode).toBe(1)
    expect(res2.stderr).toMatch(/unauthorized: .*tester/)
    expect(records(t)).toEqual([])
  })

  it('pulls private/* with credentials from the configuration', async () => {
    const t = newRoot()
    t.writeConfig({registries: {[env.authRegistry]: {insecure: true, username: 'tester', password: 'secret'}}})
    const res = await ctr(['pull', '-q', env.fixtures.private!.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    assertPulled(t, env.fixtures.private!)
  })

  it('pulls private/* with credentials from ~/.docker/config.json', async () => {
    const t = newRoot()
    mkdirSync(join(t.home, '.docker'), {recursive: true})
    const auth = Buffer.from('tester:secret').toString('base64')
    writeFileSync(join(t.home, '.docker', 'config.json'), JSON.stringify({auths: {[`http://${env.authRegistry}`]: {auth}}}))
    const res = await ctr(['pull', '-q', env.fixtures.private!.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    assertPulled(t, env.fixtures.private!)
  })
})

describe('mirrors', () => {
  it('serves docker.io references from a configured mirror', async () => {
    const t = newRoot()
    t.writeConfig({registries: {'docker.io': {mirrors: [`http://${env.plainRegistry}`]}}})
    const res = await ctr(['pull', 'alpine'], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    expect(res.stdout.trim()).toBe('docker.io/library/alpine:latest')
    assertPulled(t, env.fixtures.mirror!, 'docker.io/library/alpine:latest')
  })

  it('skips a dead mirror for the next one', async () => {
    const t = newRoot()
    const port = await closedPort()
    t.writeConfig({registries: {'docker.io': {mirrors: [`http://127.0.0.1:${port}`, `http://${env.plainRegistry}`]}}})
    const res = await ctr(['pull', '-q', 'library/alpine:latest'], {env: t.env, timeoutMs: 30_000})
    expect(res.exitCode, res.stderr).toBe(0)
    assertPulled(t, env.fixtures.mirror!, 'docker.io/library/alpine:latest')
  })
})

// ---------------------------------------------------------------------------------------------
// A registry that misbehaves: it proxies the plain registry's busybox fixture and breaks one
// kind of response on purpose.

type Mode = 'stall' | 'trickle' | 'oversize' | 'short' | 'corrupt' | 'huge-manifest' | 'flaky' | 'throttle' | 'slow'

interface Hostile {
  host: string
  mode: Mode
  hits: Record<string, number>
  close(): Promise<void>
}

async function upstream(path: string, accept?: string): Promise<{status: number; type: string; body: Buffer}> {
  const res = await fetch(`http://${env.plainRegistry}${path}`, {headers: accept ? {accept} : {}})
  return {status: res.status, type: res.headers.get('content-type') ?? 'application/octet-stream', body: Buffer.from(await res.arrayBuffer())}
}

async function startHostile(mode: Mode): Promise<Hostile> {
  const hits: Record<string, number> = {}
  const sockets = new Set<import('node:net').Socket>()
  const timers = new Set<NodeJS.Timeout>()
  const f = env.fixtures.busybox!
  const repoPath = f.ref.slice(env.plainRegistry.length, f.ref.lastIndexOf(':')) // /fixtures/busybox
  const layer = f.layerDigests[0]!
  const handler = async (req: IncomingMessage, res: ServerResponse) => {
    const url = req.url ?? '/'
    const kind = url.includes('/manifests/') ? 'manifest' : url.includes(`/blobs/${layer}`) ? 'layer' : url.includes('/blobs/') ? 'config' : 'other'
    hits[kind] = (hits[kind] ?? 0) + 1
    if (url === '/v2/' || url === '/v2') {
      res.writeHead(200, {'content-type': 'application/json'}).end('{}')
      return
    }
    const up = url.replace(/^\/v2\/hostile\/busybox/, `/v2${repoPath}`)
    if (kind === 'manifest' && mode === 'huge-manifest') {
      res.writeHead(200, {'content-type': 'application/vnd.oci.image.manifest.v1+json'})
      const chunk = Buffer.alloc(64 * 1024, 0x20)
      const pump = () => {
        while (res.write(chunk)) {
          /* fill the socket buffer */
        }
      }
      res.on('drain', pump)
      pump()
      return
    }
    if ((mode === 'flaky' && kind === 'config' && hits[kind]! <= 2) || (mode === 'throttle' && kind === 'manifest' && hits[kind]! <= 1)) {
      if (mode === 'throttle') res.writeHead(429, {'retry-after': '1', 'content-type': 'application/json'})
      else res.writeHead(500, {'content-type': 'application/json'})
      res.end('{"errors":[{"code":"UNAVAILABLE","message":"try again"}]}')
      return
    }
    const u = await upstream(up, req.headers.accept)
    if (kind !== 'layer' || !['stall', 'trickle', 'oversize', 'short', 'corrupt', 'slow'].includes(mode)) {
      res.writeHead(u.status, {'content-type': u.type, 'content-length': String(u.body.length)}).end(u.body)
      return
    }
    const body = u.body
    switch (mode) {
      case 'stall':
        res.writeHead(200, {'content-length': String(body.length)})
        res.write(body.subarray(0, body.length >> 1))
        return // never finishes
      case 'trickle': {
        res.writeHead(200, {'content-length': String(body.length)})
        let i = 0
        const t = setInterval(() => {
          if (i < body.length) res.write(body.subarray(i, ++i))
        }, 100)
        timers.add(t)
        return
      }
      case 'oversize': {
        // no content-length: the body just keeps coming, far past the descriptor's size
        res.writeHead(200, {'content-type': 'application/octet-stream'})
        res.write(body)
        const chunk = Buffer.alloc(64 * 1024, 1)
        const pump = () => {
          while (res.write(chunk)) {
            /* endless */
          }
        }
        res.on('drain', pump)
        pump()
        return
      }
      case 'slow': {
        // complete and correct, in 12 parts over about 1.2 s: long enough for progress to show
        res.writeHead(200, {'content-length': String(body.length)})
        const part = Math.ceil(body.length / 12)
        let i = 0
        const t = setInterval(() => {
          res.write(body.subarray(i, i + part))
          i += part
          if (i >= body.length) {
            clearInterval(t)
            res.end()
          }
        }, 100)
        timers.add(t)
        return
      }
      case 'short':
        res.writeHead(200, {'content-type': 'application/octet-stream'})
        res.end(body.subarray(0, body.length - 100))
        return
      case 'corrupt': {
        const bad = Buffer.from(body)
        bad[bad.length >> 1] ^= 0xff
        res.writeHead(200, {'content-length': String(bad.length)}).end(bad)
        return
      }
    }
  }
  const server: Server = createServer((req, res) => {
    handler(req, res).catch(() => res.destroy())
  })
  server.on('connection', (s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const port = (server.address() as AddressInfo).port
  return {
    host: `127.0.0.1:${port}`,
    mode,
    hits,
    async close() {
      for (const t of timers) clearInterval(t)
      for (const s of sockets) s.destroy()
      await new Promise((r) => server.close(r))
    },
  }
}

async function closedPort(): Promise<number> {
  const s = createServer()
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r))
  const port = (s.address() as AddressInfo).port
  await new Promise((r) => s.close(r))
  return port
}

describe('a misbehaving registry', () => {
  let hostile: Hostile | undefined
  afterEach(async () => {
    await hostile?.close()
    hostile = undefined
  })
  const fast = {CTR_TS_STALL_TIMEOUT_MS: '1500', CTR_TS_RETRY_BASE_MS: '50', CTR_TS_RETRY_MAX_MS: '1500', CTR_TS_MAX_TRIES: '4'}

  async function pullHostile(mode: Mode, extraEnv: Record<string, string> = {}) {
    hostile = await startHostile(mode)
    const t = newRoot()
    const started = Date.now()
    const res = await ctr(['pull', `${hostile.host}/hostile/busybox:latest`], {env: {...t.env, ...fast, ...extraEnv}, timeoutMs: 40_000})
    return {t, res, ms: Date.now() - started}
  }

  function assertNothingVisible(t: TempRoot): void {
    expect(records(t)).toEqual([])
    expect(existsSync(blobFile(t, env.fixtures.busybox!.layerDigests[0]!))).toBe(false)
    assertStoreConsistent(t)
  }

  it('stalls: a clear timeout after the stall limit', async () => {
    const {t, res, ms} = await pullHostile('stall')
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim().split('\n').at(-1)).toMatch(/^ctr-ts: registry 127\.0\.0\.1:\d+ stalled: no data for 1500 ms/)
    expect(ms).toBeLessThan(15_000)
    assertNothingVisible(t)
  })

  it('trickles: aborted when the average speed stays under the floor', async () => {
    const {t, res, ms} = await pullHostile('trickle', {CTR_TS_MIN_SPEED_BPS: '1000', CTR_TS_SPEED_WINDOW_MS: '1500', CTR_TS_STALL_TIMEOUT_MS: '10000'})
    expect(res.exitCode).toBe(1)
    expect(res.stderr).toMatch(/ctr-ts: registry 127\.0\.0\.1:\d+ too slow: \d+ B\/s/)
    expect(ms).toBeLessThan(15_000)
    assertNothingVisible(t)
  })

  it('sends more than the descriptor size: aborted at once', async () => {
    const {t, res, ms} = await pullHostile('oversize')
    expect(res.exitCode).toBe(1)
    expect(res.stderr).toMatch(/ctr-ts: blob sha256:[a-f0-9]{64} from 127\.0\.0\.1:\d+: more than the \d+ bytes announced/)
    expect(ms).toBeLessThan(15_000)
    assertNothingVisible(t)
  })

  it('sends fewer bytes than the descriptor size: an integrity error', async () => {
    const {t, res} = await pullHostile('short')
    expect(res.exitCode).toBe(1)
    expect(res.stderr).toMatch(/ctr-ts: blob sha256:[a-f0-9]{64} from 127\.0\.0\.1:\d+: got \d+ bytes, expected \d+/)
    assertNothingVisible(t)
  })

  it('sends corrupt content: a digest mismatch', async () => {
    const {t, res} = await pullHostile('corrupt')
    expect(res.exitCode).toBe(1)
    expect(res.stderr).toMatch(/ctr-ts: digest mismatch: expected sha256:/)
    assertNothingVisible(t)
  })

  it('sends an endless manifest: refused at 4 MiB', async () => {
    const {t, res, ms} = await pullHostile('huge-manifest')
    expect(res.exitCode).toBe(1)
    expect(res.stderr).toMatch(/ctr-ts: manifest for 127\.0\.0\.1:\d+\/hostile\/busybox:latest from 127\.0\.0\.1:\d+ is larger than 4194304 bytes/)
    expect(ms).toBeLessThan(15_000)
    expect(records(t)).toEqual([])
  })

  it('a slow but honest layer: on a terminal, per-layer bytes, percentage and speed redrawn in place', async () => {
    hostile = await startHostile('slow')
    const t = newRoot()
    const ref = `${hostile.host}/hostile/busybox:latest`
    // util-linux `script` gives the CLI a pty, as a user's terminal would.
    const envs = Object.entries({...t.env, ...fast})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    // Asynchronously: the hostile registry is served from this very process.
    const {code, out} = await new Promise<{code: number; out: string}>((resolve) => {
      execFile('script', ['-qec', `stty cols 120; env ${envs} ${process.execPath} ${CLI} pull ${ref}`, '/dev/null'], {timeout: 40_000, encoding: 'utf8'}, (err, stdout) =>
        resolve({code: err ? Number((err as {code?: number}).code ?? 1) : 0, out: stdout}),
      )
    })
    expect(code, out).toBe(0)
    expect(out).toMatch(/\x1b\[\d+A/) // the lines are redrawn in place
    const size = String.raw`[\d.]+ (?:B|KiB|MiB)`
    expect(out).toMatch(new RegExp(String.raw`[0-9a-f]{12}: downloading ${size} / ${size} \d+% +${size}/s`))
    expect(out).toMatch(/[0-9a-f]{12}: unpacked/)
    expect(out).toMatch(new RegExp(`Pulled ${ref.replace(/[.]/g, '\\.')} sha256:[0-9a-f]{64}`))
    expect(records(t).map((r) => r.ref)).toEqual([ref])

    // the same pull into another store, not on a terminal: plain lines, no escape codes
    const plain = await ctr(['pull', ref], {env: {...newRoot().env, ...fast}, timeoutMs: 40_000})
    expect(plain.exitCode).toBe(0)
    expect(plain.stderr + plain.stdout).not.toMatch(/\x1b\[/)
    expect(plain.stderr + plain.stdout).toMatch(/[0-9a-f]{12}: downloading \(/)
  })

  it('returns 500 twice, then succeeds: retried', async () => {
    const {t, res} = await pullHostile('flaky')
    expect(res.exitCode, res.stderr).toBe(0)
    expect(hostile!.hits.config).toBe(3)
    expect(records(t)).toHaveLength(1)
    assertStoreConsistent(t)
  })

  it('returns 429 with Retry-After, then succeeds', async () => {
    const {res, ms} = await pullHostile('throttle')
    expect(res.exitCode, res.stderr).toBe(0)
    expect(hostile!.hits.manifest).toBeGreaterThanOrEqual(2)
    expect(ms).toBeGreaterThanOrEqual(700)
  })
})
