/**
 * `push` against the harness registries: mount from another repository of the same registry,
 * uploads (monolithic and chunked), layers stored uncompressed compressed on the way, token auth
 * with push scope; what was pushed pulls back with the same digest with ctr-ts and skopeo.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync} from 'node:fs'
import {createServer, connect, type Server, type Socket} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {resetTokenServerLog, tokenServerLog} from '../harness/token-server.js'

const env = testEnv()
let t: TempRoot
const roots: TempRoot[] = []
const uniq = `${process.pid}-${Date.now().toString(36)}`

beforeAll(async () => {
  t = tempRoot()
  for (const k of ['multilayer-gzip', 'multilayer-none', 'index']) {
    const r = await ctr(['pull', '-q', env.fixtures[k]!.ref], {env: t.env})
    expect(r.exitCode, r.stderr).toBe(0)
  }
}, 120_000)
afterAll(async () => {
  await t?.cleanup()
  await Promise.all(roots.map((r) => r.cleanup()))
})

function skopeoDigest(ref: string, creds?: string): string {
  const out = execFileSync('skopeo', ['inspect', '--tls-verify=false', ...(creds ? ['--creds', creds] : []), '--raw', `docker://${ref}`], {env: {...process.env, HOME: t.home}})
  return `sha256:${createHash('sha256').update(out).digest('hex')}`
}

async function repoDigest(root: TempRoot, ref: string): Promise<string> {
  const insp = await ctr(['image', 'inspect', ref], {env: root.env})
  expect(insp.exitCode, insp.stderr).toBe(0)
  const [doc] = JSON.parse(insp.stdout) as Array<{RepoDigests: string[]}>
  return doc!.RepoDigests[0]!.split('@')[1]!
}

async function pullBack(ref: string): Promise<{digest: string; root: TempRoot}> {
  const fresh = tempRoot()
  roots.push(fresh)
  const r = await ctr(['pull', ref], {env: fresh.env})
  expect(r.exitCode, r.stderr).toBe(0)
  return {digest: await repoDigest(fresh, ref), root: fresh}
}

describe('push to the plain registry', () => {
  it('mounts blobs from the repository it was pulled from, keeps the manifest digest; skopeo and a pull agree', async () => {
    const ml = env.fixtures['multilayer-gzip']!
    const dest = `${env.plainRegistry}/pushed/ml-${uniq}:v1`
    const dir = mkdtempSync(join(tmpdir(), 'ctr-push-'))
    const r = await ctr(['push', '--digestfile', join(dir, 'digest'), ml.ref, dest], {env: t.env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toContain(`The push refers to repository [${env.plainRegistry}/pushed/ml-${uniq}]`)
    expect(r.stderr).toContain('Mounted from fixtures/multilayer')
    expect(r.stdout).toMatch(new RegExp(`^v1: digest: ${ml.manifestDigest} size: \\d+\\n$`))
    expect(readFileSync(join(dir, 'digest'), 'utf8')).toBe(ml.manifestDigest)
    expect(skopeoDigest(dest)).toBe(ml.manifestDigest)
    expect((await pullBack(dest)).digest).toBe(ml.manifestDigest)

    // A second push finds every blob there already.
    const again = await ctr(['push', ml.ref, dest], {env: t.env})
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stderr.match(/Layer already exists/g)).toHaveLength(ml.layerDigests.length + 1)
    const quiet = await ctr(['push', '-q', ml.ref, dest], {env: t.env})
    expect(quiet.exitCode, quiet.stderr).toBe(0)
    expect(quiet.stdout + quiet.stderr).toBe('')
  }, 120_000)

  it('compresses layers stored uncompressed (gzip) in chunks, keeping the diff ids; the result runs', async () => {
    const none = env.fixtures['multilayer-none']!
    const dest = `${env.plainRegistry}/pushed/none-${uniq}:gz`
    const r = await ctr(['push', none.ref, dest], {env: {...t.env, CTR_TS_PUSH_CHUNK_BYTES: '65536'}})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toContain('Compressing')
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(r.stdout)![1]!
    expect(digest).not.toBe(none.manifestDigest)
    expect(skopeoDigest(dest)).toBe(digest)
    const back = await pullBack(dest)
    expect(back.digest).toBe(digest)
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${dest}`]).toString())
    expect(manifest.layers.every((l: {mediaType: string}) => l.mediaType.endsWith('+gzip'))).toBe(true)
    const cfg = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--config', `docker://${dest}`]).toString())
    expect(cfg.rootfs.diff_ids).toEqual(none.diffIds)
    const run = await ctr(['run', '--rm', '--network', 'none', dest, 'cat', '/data/dir/new'], {env: back.root.env})
    expect(run.exitCode, run.stderr).toBe(0)
    expect(run.stdout).toBe('new\n')
  }, 120_000)

  it('an image pulled through an index with one platform in the store pushes that platform and says so', async () => {
    const idx = env.fixtures.index!
    const dest = `${env.plainRegistry}/pushed/idx-${uniq}:one`
    const r = await ctr(['push', idx.ref, dest], {env: t.env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/not in the store: pushing the linux\/amd64 manifest only/)
    expect(skopeoDigest(dest)).toBe(idx.manifestDigest)
  }, 120_000)

  it('pushes the whole index when every platform of it is in the store, with the index digest', async () => {
    const amd = env.fixtures['index-docker']!
    const root = tempRoot()
    roots.push(root)
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const r = await ctr(['pull', '-q', '--platform', platform, amd.ref], {env: root.env})
      expect(r.exitCode, r.stderr).toBe(0)
    }
    const dest = `${env.plainRegistry}/pushed/all-${uniq}:both`
    const r = await ctr(['push', amd.ref, dest], {env: root.env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stderr).not.toMatch(/manifest only/)
    expect(r.stdout).toContain(`digest: ${amd.indexDigest}`)
    expect(skopeoDigest(dest)).toBe(amd.indexDigest)
    const arm = env.fixtures['index-docker-arm64']!
    const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${env.plainRegistry}/pushed/all-${uniq}@${arm.manifestDigest}`])
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(arm.manifestDigest)
  }, 120_000)

  it('--compression-format zstd compresses layers stored uncompressed with zstd; they pull back', async () => {
    const none = env.fixtures['multilayer-none']!
    const dest = `${env.plainRegistry}/pushed/zstd-${uniq}:z`
    const r = await ctr(['push', '--compression-format', 'zstd', none.ref, dest], {env: t.env})
    expect(r.exitCode, r.stderr).toBe(0)
    const manifest = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${dest}`]).toString())
    expect(manifest.layers.map((l: {mediaType: string}) => l.mediaType)).toEqual(none.layerDigests.map(() => 'application/vnd.oci.image.layer.v1.tar+zstd'))
    const back = await pullBack(dest)
    const run = await ctr(['run', '--rm', '--network', 'none', dest, 'cat', '/data/dir/new'], {env: back.root.env})
    expect(run.stdout).toBe('new\n')
  }, 120_000)

  it('refuses an image that is not in the store', async () => {
    const r = await ctr(['push', `${env.plainRegistry}/nothing/here:1`], {env: t.env})
    expect(r.exitCode).not.toBe(0)
    expect(r.stderr).toBe(`ctr-ts: An image does not exist locally with the tag: ${env.plainRegistry}/nothing/here\n`)
  })
})

describe('push to the token-auth registry', () => {
  it('is refused without credentials, asks a pull,push token with them, and pulls back the same digest', async () => {
    const ml = env.fixtures['multilayer-gzip']!
    const dest = `${env.authRegistry}/team/ml-${uniq}:v1`
    const anon = await ctr(['push', ml.ref, dest], {env: t.env})
    expect(anon.exitCode).not.toBe(0)
    expect(anon.stderr).toMatch(/unauthorized/)
    const login = await ctr(['login', '-u', 'admin', '--password-stdin', env.authRegistry], {env: t.env, input: 'adminpw\n'})
    expect(login.exitCode, login.stderr).toBe(0)
    await resetTokenServerLog(env.tokenServer)
    const r = await ctr(['push', ml.ref, dest], {env: {...t.env, CTR_TS_PUSH_CHUNK_BYTES: '4096'}})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain(`digest: ${ml.manifestDigest}`)
    const log = await tokenServerLog(env.tokenServer)
    expect(log.some((e) => e.user === 'admin' && e.status === 200 && e.query.scope?.some((s) => s.includes(`repository:team/ml-${uniq}:pull,push`)))).toBe(true)
    expect(skopeoDigest(dest, 'admin:adminpw')).toBe(ml.manifestDigest)
    const fresh = tempRoot()
    roots.push(fresh)
    await ctr(['login', '-u', 'admin', '--password-stdin', env.authRegistry], {env: fresh.env, input: 'adminpw\n'})
    const back = await ctr(['pull', dest], {env: fresh.env})
    expect(back.exitCode, back.stderr).toBe(0)
    expect(await repoDigest(fresh, dest)).toBe(ml.manifestDigest)
  }, 120_000)
})

/**
 * A TCP proxy to the plain registry that cuts the connection once: in the `nth` chunk upload
 * (PATCH) it sees, after forwarding `after` bytes of it.
 */
function droppingProxy(target: string, nth: number, after: number): Promise<{host: string; dropped: () => boolean; server: Server}> {
  const [host, port] = target.split(':') as [string, string]
  let dropped = false
  let patches = 0
  const server = createServer((client: Socket) => {
    const upstream = connect(Number(port), host)
    let inPatch = false
    let patchBytes = 0
    let cut = false
    client.on('data', (chunk: Buffer) => {
      if (cut) return
      if (!dropped && !inPatch && chunk.includes('PATCH /v2/')) inPatch = ++patches >= nth
      if (inPatch && !dropped) {
        patchBytes += chunk.length
        if (patchBytes > after || after === 0) {
          dropped = true
          cut = true
          upstream.write(chunk.subarray(0, Math.max(0, chunk.length - (patchBytes - after))), () => {
            setTimeout(() => {
              client.destroy()
              upstream.destroy()
            }, 200)
          })
          return
        }
      }
      upstream.write(chunk)
    })
    upstream.on('data', (chunk: Buffer) => {
      if (!cut) client.write(chunk)
    })
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
    client.on('close', () => upstream.destroy())
    upstream.on('close', () => client.destroy())
  })
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => {
    const addr = server.address() as {port: number}
    resolve({host: `127.0.0.1:${addr.port}`, dropped: () => dropped, server})
  }))
}

describe('push over a connection that drops', () => {
  const cases = [
    {name: 'resumes a chunked upload at the offset the registry reports (a chunk lost before the registry saw it)', nth: 2, after: 0, notice: /connection dropped .*; resuming at byte [1-9]\d*/},
    {name: 'starts the blob over when the registry dropped the upload (a chunk cut in the middle)', nth: 1, after: 40_000, notice: /connection dropped .*; the registry dropped the upload, restarting it/},
  ]
  for (const c of cases) {
    it(c.name, async () => {
      const ml = env.fixtures['multilayer-gzip']!
      const proxy = await droppingProxy(env.plainRegistry, c.nth, c.after)
      try {
        const repo = `resumed/ml-${c.nth}-${uniq}`
        const r = await ctr(['push', ml.ref, `${proxy.host}/${repo}:v1`], {env: {...t.env, CTR_TS_PUSH_CHUNK_BYTES: '65536'}})
        expect(r.exitCode, r.stderr).toBe(0)
        expect(proxy.dropped()).toBe(true)
        expect(r.stderr).toMatch(c.notice)
        expect(r.stdout).toContain(`digest: ${ml.manifestDigest}`)
        // the registry checked every blob's digest at the final PUT; the image pulls back whole
        const back = await pullBack(`${env.plainRegistry}/${repo}:v1`)
        expect(back.digest).toBe(ml.manifestDigest)
      } finally {
        proxy.server.close()
      }
    }, 120_000)
  }
})
