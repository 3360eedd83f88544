/**
 * Smoke test of the test harness itself: registries, token server, fixtures, ctr(), tempRoot().
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, inject, it} from 'vitest'
import {MediaType, compressionOf, type ImageIndex, type ImageManifest} from '../../src/oci/types.js'
import {ctr, tempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {MULTILAYER} from '../harness/fixtures.js'
import {RegistryClient, parseChallenge, sha256} from '../harness/push.js'
import {decompress, listTar} from '../harness/tar.js'
import {fetchToken, makeTokenKeyPair, signToken, tokenServerLog, TOKEN_SERVICE} from '../harness/token-server.js'

const env = testEnv()
const ACCEPT = [MediaType.OciManifest, MediaType.OciIndex, MediaType.DockerManifest, MediaType.DockerManifestList]

function splitRef(ref: string): {host: string; repo: string; tag: string} {
  const slash = ref.indexOf('/')
  const colon = ref.lastIndexOf(':')
  return {host: ref.slice(0, slash), repo: ref.slice(slash + 1, colon), tag: ref.slice(colon + 1)}
}

describe('test environment', () => {
  it('is the same through the env file and vitest inject', () => {
    expect(inject('ctrTsTestEnv')).toEqual(env)
  })

  it('plain registry answers /v2/ without auth', async () => {
    const res = await fetch(`http://${env.plainRegistry}/v2/`)
    expect(res.status).toBe(200)
  })

  it('auth registry answers /v2/ with a Bearer challenge naming the token server', async () => {
    const res = await fetch(`http://${env.authRegistry}/v2/`)
    expect(res.status).toBe(401)
    const {scheme, params} = parseChallenge(res.headers.get('www-authenticate') ?? '')
    expect(scheme).toBe('Bearer')
    expect(params.realm).toBe(`${env.tokenServer}/token`)
    expect(params.service).toBe(TOKEN_SERVICE)
  })
})

describe('token auth', () => {
  it('gives anonymous pull on public/*', async () => {
    const anon = new RegistryClient(env.authRegistry)
    const m = await anon.getManifest('public/busybox', 'latest', ACCEPT)
    expect(m.status).toBe(200)
    expect(m.digest).toBe(env.fixtures.public.manifestDigest)
  })

  it('refuses anonymous pull on private/* and allows tester', async () => {
    const anon = new RegistryClient(env.authRegistry)
    expect((await anon.getManifest('private/busybox', 'latest', ACCEPT)).status).toBe(401)
    const tester = new RegistryClient(env.authRegistry, {user: 'tester', password: 'secret'})
    const m = await tester.getManifest('private/busybox', 'latest', ACCEPT)
    expect(m.status).toBe(200)
    expect(m.digest).toBe(env.fixtures.private.manifestDigest)
    const log = await tokenServerLog(env.tokenServer)
    expect(log.some((e) => e.user === 'tester' && e.status === 200 && e.granted?.some((g) => g.name === 'private/busybox'))).toBe(true)
  })

  it('answers 401 for a wrong password', async () => {
    await expect(fetchToken(env.tokenServer, 'repository:private/busybox:pull', {user: 'tester', password: 'wrong'})).rejects.toThrow(/401/)
  })

  it('does not give push on public/* to tester', async () => {
    const tester = new RegistryClient(env.authRegistry, {user: 'tester', password: 'secret'})
    await expect(tester.pushBlob('public/busybox', Buffer.from('nope'))).rejects.toThrow(/401|403|token/)
  })

  it('the registry really verifies token signatures', async () => {
    const other = makeTokenKeyPair()
    try {
      const forged = signToken(other, {sub: 'admin', aud: TOKEN_SERVICE, access: [{type: 'repository', name: 'private/busybox', actions: ['pull']}]})
      const res = await fetch(`http://${env.authRegistry}/v2/private/busybox/manifests/latest`, {
        headers: {authorization: `Bearer ${forged}`, accept: ACCEPT.join(', ')},
      })
      expect(res.status).toBe(401)
      const good = await fetchToken(env.tokenServer, 'repository:private/busybox:pull', {user: 'admin', password: 'adminpw'})
      const ok = await fetch(`http://${env.authRegistry}/v2/private/busybox/manifests/latest`, {
        headers: {authorization: `Bearer ${good}`, accept: ACCEPT.join(', ')},
      })
      expect(ok.status).toBe(200)
    } finally {
      rmSync(other.dir, {recursive: true, force: true})
    }
  })
})

describe('fixtures', () => {
  const names = Object.keys(env.fixtures)

  it('has every fixture', () => {
    for (const n of ['busybox', 'multilayer-gzip', 'multilayer-zstd', 'multilayer-none', 'multilayer-docker', 'index', 'index-docker', 'mirror', 'public', 'private', 'web']) {
      expect(names).toContain(n)
    }
  })

  it.each(names)('%s: manifest fetched by digest matches', async (name) => {
    const f = env.fixtures[name]
    const {host, repo, tag} = splitRef(f.ref)
    const client = host === env.authRegistry ? new RegistryClient(host, {user: 'admin', password: 'adminpw'}) : new RegistryClient(host)
    const m = await client.getManifest(repo, f.manifestDigest, ACCEPT)
    expect(m.status).toBe(200)
    expect(sha256(m.body)).toBe(f.manifestDigest)
    const manifest = JSON.parse(m.body.toString()) as ImageManifest
    expect(manifest.config.digest).toBe(f.configDigest)
    expect(manifest.layers.map((l) => l.digest)).toEqual(f.layerDigests)
    const byTag = await client.getManifest(repo, tag, ACCEPT)
    expect(byTag.status).toBe(200)
    if (f.indexDigest) {
      expect(sha256(byTag.body)).toBe(f.indexDigest)
      const index = JSON.parse(byTag.body.toString()) as ImageIndex
      expect(index.manifests.map((d) => d.digest)).toContain(f.manifestDigest)
    } else {
      expect(sha256(byTag.body)).toBe(f.manifestDigest)
    }
    // config blob: digest and diff_ids
    const cfg = await client.request(repo, 'pull', `/v2/${repo}/blobs/${f.configDigest}`)
    const cfgBody = Buffer.from(await cfg.arrayBuffer())
    expect(sha256(cfgBody)).toBe(f.configDigest)
    expect((JSON.parse(cfgBody.toString()) as {rootfs: {diff_ids: string[]}}).rootfs.diff_ids).toEqual(f.diffIds)
  })

  it('the multiarch index has amd64, arm64 and an attestation', async () => {
    const {repo, tag} = splitRef(env.fixtures.index.ref)
    const m = await new RegistryClient(env.plainRegistry).getManifest(repo, tag, ACCEPT)
    expect(m.mediaType).toBe(MediaType.OciIndex)
    const index = JSON.parse(m.body.toString()) as ImageIndex
    expect(index.manifests.map((d) => `${d.platform?.os}/${d.platform?.architecture}`)).toEqual(['linux/amd64', 'linux/arm64', 'unknown/unknown'])
    expect(index.manifests[2].annotations?.['vnd.docker.reference.type']).toBe('attestation-manifest')
    expect(index.manifests[2].annotations?.['vnd.docker.reference.digest']).toBe(env.fixtures.index.manifestDigest)
    const d = await new RegistryClient(env.plainRegistry).getManifest(repo, 'docker', ACCEPT)
    expect(d.mediaType).toBe(MediaType.DockerManifestList)
  })

  it.each(['multilayer-gzip', 'multilayer-zstd', 'multilayer-none', 'multilayer-docker'])('%s: layers decompress to their diff_ids with the planned entries', async (name) => {
    const f = env.fixtures[name]
    const {repo} = splitRef(f.ref)
    const client = new RegistryClient(env.plainRegistry)
    const manifest = JSON.parse((await client.getManifest(repo, f.manifestDigest, ACCEPT)).body.toString()) as ImageManifest
    const tars: Buffer[] = []
    for (const [i, layer] of manifest.layers.entries()) {
      const res = await client.request(repo, 'pull', `/v2/${repo}/blobs/${layer.digest}`)
      const blob = Buffer.from(await res.arrayBuffer())
      expect(sha256(blob)).toBe(layer.digest)
      const tar = decompress(blob, compressionOf(layer.mediaType))
      expect(sha256(tar)).toBe(f.diffIds[i])
      tars.push(tar)
    }
    const l2 = await listTar(tars[1])
    const byName = new Map(l2.map((e) => [e.name, e]))
    expect(byName.get(MULTILAYER.longPath.path.slice(1))?.type).toBe('file')
    expect(byName.get('data/hard')).toMatchObject({type: 'link', linkname: 'data/keep'})
    expect(byName.get('data/suid')?.mode).toBe(0o4755)
    expect(byName.get('data/owned2000')).toMatchObject({uid: 2000, gid: 3000})
    expect(byName.get('data/dated')?.mtime?.toISOString()).toBe(MULTILAYER.dated.mtime.toISOString())
    const l3 = (await listTar(tars[2])).map((e) => e.name)
    expect(l3).toEqual(expect.arrayContaining(['data/.wh.gone', 'data/dir/.wh..wh..opq', 'data/dir/new']))
  })
})

describe('cli helpers', () => {
  const t = tempRoot()
  afterAll(() => t.cleanup())

  it('tempRoot writes a config marking both registries insecure', () => {
    const cfg = JSON.parse(readFileSync(join(t.env.XDG_CONFIG_HOME, 'ctr-ts', 'config.json'), 'utf8')) as {registries: Record<string, {insecure: boolean}>}
    expect(cfg.registries[env.plainRegistry]).toEqual({insecure: true})
    expect(cfg.registries[env.authRegistry]).toEqual({insecure: true})
    expect(t.runRoot.length).toBeLessThan(30)
  })

  it('ctr() runs the real binary and reports the exit code', async () => {
    const ok = await ctr(['version'], {env: t.env})
    expect(ok.exitCode, ok.stderr).toBe(0)
    expect(ok.stdout).toMatch(/ctr-ts/)
    const bad = await ctr(['no-such-command-xyz'], {env: t.env})
    expect(bad.exitCode).not.toBe(0)
  })

  it('cleanup removes files owned by sub-uids', async () => {
    const t2 = tempRoot()
    const dir = join(t2.root, 'layers', 'x')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'f'), 'x')
    execFileSync('unshare', ['--map-auto', '--map-root-user', 'sh', '-c', `chown 1000:1000 ${dir}/f ${dir} && chmod 0500 ${dir}`])
    expect(statSync(dir).uid).not.toBe(process.getuid!())
    await t2.cleanup()
    expect(existsSync(t2.root)).toBe(false)
    expect(existsSync(t2.runRoot)).toBe(false)
  })
})
