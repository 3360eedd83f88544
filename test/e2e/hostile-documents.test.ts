/**
 * Hostile documents and layers (issue 17 items 3, 4 and 5), pushed to the real test registry:
 * wrongly typed image configs and ambiguous manifests are refused at pull with one clear line and
 * exit 1 (docker: 125 only for run, create and exec), leaving no image record and no refused document in the store; a layer hiding entries
 * after its tar end-of-archive marker is pulled without them; a user in more than 65536 groups
 * is one clear line.
 */
import {existsSync, readdirSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {type AddressInfo} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {baseLayerEntries, imageConfig, type BuiltLayer} from '../harness/fixtures.js'
import {RegistryClient, sha256} from '../harness/push.js'
import {buildTar, compress, type TarEntry} from '../harness/tar.js'

const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json'
const OCI_INDEX = 'application/vnd.oci.image.index.v1+json'
const DOCKER_MANIFEST = 'application/vnd.docker.distribution.manifest.v2+json'
const OCI_CONFIG = 'application/vnd.oci.image.config.v1+json'
const REPO = 'fixtures/hostile-docs'

let t: TempRoot
let client: RegistryClient
let base: BuiltLayer

async function layerOf(tar: Buffer, createdBy: string): Promise<BuiltLayer> {
  const data = compress(tar, 'gzip')
  const blob = {data, digest: sha256(data), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip'}
  return {tar, diffId: sha256(tar), createdBy, blobs: {gzip: blob, zstd: blob, none: blob}}
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v))
const desc = (data: Buffer, mediaType: string) => ({mediaType, digest: sha256(data), size: data.length})

/** Pushes the config and layers, and a manifest made of `manifest` (a function of their descriptors). */
async function push(
  tag: string,
  opts: {config?: unknown; layers?: BuiltLayer[]; manifest?: (parts: {config: object; layers: object[]}) => unknown; contentType?: string},
): Promise<{ref: string; configDigest: string; manifestDigest: string}> {
  const layers = opts.layers ?? [base]
  const config = json(opts.config ?? imageConfig({architecture: 'amd64', layers}))
  await client.pushBlob(REPO, config)
  for (const l of layers) await client.pushBlob(REPO, l.blobs.gzip.data)
  const parts = {config: desc(config, OCI_CONFIG), layers: layers.map((l) => desc(l.blobs.gzip.data, l.blobs.gzip.mediaType))}
  const manifest = json(opts.manifest ? opts.manifest(parts) : {schemaVersion: 2, mediaType: OCI_MANIFEST, ...parts})
  await client.pushManifest(REPO, tag, manifest, opts.contentType ?? OCI_MANIFEST)
  return {ref: `${testEnv().plainRegistry}/${REPO}:${tag}`, configDigest: sha256(config), manifestDigest: sha256(manifest)}
}

const blobFile = (digest: string) => join(t.root, 'blobs', 'sha256', digest.slice(7))

async function expectRefused(ref: string, line: RegExp, notStored: string[]): Promise<void> {
  const r = await ctr(['pull', ref], {env: t.env})
  expect(r.exitCode).toBe(1)
  const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('ctr-ts:'))
  expect(errLines).toHaveLength(1)
  expect(errLines[0]).toMatch(line)
  expect(r.stderr).not.toMatch(/TypeError|\n\s+at /)
  expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe('')
  for (const d of notStored) expect(existsSync(blobFile(d)), `${d} stored`).toBe(false)
  const ingest = join(t.root, 'ingest')
  expect(existsSync(ingest) ? readdirSync(ingest) : []).toEqual([])
}

beforeAll(async () => {
  t = tempRoot()
  client = new RegistryClient(testEnv().plainRegistry)
  base = await layerOf(await buildTar(baseLayerEntries()), 'base')
})
afterAll(async () => {
  await t?.cleanup()
})

describe('wrongly typed image config (issue 17 item 5)', () => {
  const good = () => imageConfig({architecture: 'amd64', layers: [base]}) as unknown as {config: Record<string, unknown>}
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['env-string', {Env: 'PATH=/bin'}, '.config.Env must be an array of strings, got a string'],
    ['cmd-number', {Cmd: 42}, '.config.Cmd must be an array of strings, got a number'],
    ['ports-list', {ExposedPorts: ['80/tcp']}, '.config.ExposedPorts must be an object (not a list), got a list'],
  ]
  for (const [tag, field, message] of cases) {
    it(`refuses ${tag}: one line naming the field, exit 125, nothing stored`, async () => {
      const cfg = good()
      cfg.config = {...cfg.config, ...field}
      const {ref, configDigest} = await push(tag, {config: cfg})
      const escaped = message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
      await expectRefused(ref, new RegExp(`^ctr-ts: image config ${configDigest}: ${escaped}$`), [configDigest])
      // `run` pulls the same way: the same line, never a TypeError.
      const r = await ctr(['run', '--rm', ref, 'true'], {env: t.env})
      expect(r.exitCode).toBe(125)
      expect(r.stderr.trim().split('\n').at(-1)).toMatch(new RegExp(`^ctr-ts: image config ${configDigest}: ${escaped}$`))
    })
  }
})

/**
 * docker-registry 2.8 refuses to store most ambiguous documents (it has the CVE-2021-41190 fix),
 * so a front server serves them as a hostile registry would, and passes everything else (the
 * /v2/ ping, blobs) through to the real test registry.
 */
async function hostileFront(docs: Record<string, {body: Buffer; contentType: string}>): Promise<{host: string; close(): Promise<void>}> {
  const upstream = `http://${testEnv().plainRegistry}`
  const server: Server = createServer((req, res) => {
    const m = /^\/v2\/(.+)\/manifests\/([^/]+)$/.exec(req.url ?? '')
    const doc = m ? docs[m[2]!] : undefined
    if (doc) {
      res.writeHead(200, {'content-type': doc.contentType, 'content-length': String(doc.body.length), 'docker-content-digest': sha256(doc.body)})
      res.end(req.method === 'HEAD' ? undefined : doc.body)
      return
    }
    fetch(`${upstream}${req.url}`, {method: req.method, headers: {accept: String(req.headers.accept ?? '*/*')}, redirect: 'follow'})
      .then(async (up) => {
        const body = Buffer.from(await up.arrayBuffer())
        const headers: Record<string, string> = {'content-length': String(body.length)}
        for (const h of ['content-type', 'docker-content-digest', 'www-authenticate', 'docker-distribution-api-version']) {
          const v = up.headers.get(h)
          if (v) headers[h] = v
        }
        res.writeHead(up.status, headers)
        res.end(req.method === 'HEAD' ? undefined : body)
      })
      .catch(() => res.destroy())
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const host = `127.0.0.1:${(server.address() as AddressInfo).port}`
  return {host, close: () => new Promise<void>((r) => server.close(() => r()))}
}

describe('ambiguous manifests (issue 17 item 4, CVE-2021-41190)', () => {
  let parts: {config: object; layers: object[]}
  let child: {digest: string; size: number}
  let front: {host: string; close(): Promise<void>}
  let served: Record<string, {body: Buffer; contentType: string}>

  beforeAll(async () => {
    const pushed = await push('ambiguous-base', {manifest: (p) => {
      parts = p
      return {schemaVersion: 2, mediaType: OCI_MANIFEST, ...p}
    }})
    const childBody = json({schemaVersion: 2, mediaType: OCI_MANIFEST, ...parts})
    child = {digest: pushed.manifestDigest, size: childBody.length}
    const childDesc = {mediaType: OCI_MANIFEST, ...child, platform: {os: 'linux', architecture: 'amd64'}}
    served = {
      both: {body: json({schemaVersion: 2, mediaType: OCI_MANIFEST, ...parts, manifests: [childDesc]}), contentType: OCI_MANIFEST},
      'both-as-index': {body: json({schemaVersion: 2, mediaType: OCI_INDEX, ...parts, manifests: [childDesc]}), contentType: OCI_INDEX},
      'both-untyped': {body: json({schemaVersion: 2, ...parts, manifests: [childDesc]}), contentType: 'application/json'},
      'field-vs-header': {body: json({schemaVersion: 2, mediaType: DOCKER_MANIFEST, ...parts}), contentType: OCI_MANIFEST},
      'index-with-layers': {body: json({schemaVersion: 2, mediaType: OCI_INDEX, layers: parts.layers}), contentType: OCI_INDEX},
      'size-string': {
        body: json({schemaVersion: 2, mediaType: OCI_MANIFEST, ...parts, layers: parts.layers.map((l) => ({...l, size: String((l as {size: number}).size)}))}),
        contentType: OCI_MANIFEST,
      },
    }
    front = await hostileFront(served)
  })
  afterAll(async () => {
    await front?.close()
  })

  const cases: Array<[string, RegExp]> = [
    ['both', /ambiguous manifest: it has both "manifests" and "config"\/"layers" \(refused, CVE-2021-41190\)$/],
    ['both-as-index', /ambiguous manifest: it has both "manifests" and "config"\/"layers"/],
    ['both-untyped', /ambiguous manifest: it has both "manifests" and "config"\/"layers"/],
    ['field-vs-header', /ambiguous manifest: its mediaType application\/vnd\.docker\.distribution\.manifest\.v2\+json disagrees with the Content-Type application\/vnd\.oci\.image\.manifest\.v1\+json it was served with/],
    ['index-with-layers', /ambiguous manifest: it has both|mediaType application\/vnd\.oci\.image\.index\.v1\+json but it has "config"\/"layers"/],
  ]
  for (const [tag, line] of cases) {
    it(`refuses ${tag}: one line, exit 125, nothing stored`, async () => {
      await expectRefused(`${front.host}/${REPO}:${tag}`, line, [sha256(served[tag]!.body), child.digest])
    })
  }

  it('refuses an index whose descriptor disagrees with the manifest it points to (pushed to the real registry)', async () => {
    const index = json({schemaVersion: 2, mediaType: OCI_INDEX, manifests: [{mediaType: DOCKER_MANIFEST, ...child, platform: {os: 'linux', architecture: 'amd64'}}]})
    await client.pushManifest(REPO, 'index-says-docker', index, OCI_INDEX)
    await expectRefused(
      `${testEnv().plainRegistry}/${REPO}:index-says-docker`,
      new RegExp(`^ctr-ts: manifest ${child.digest} of .*: the index says ${DOCKER_MANIFEST.replace(/[.+]/g, '\\$&')}, the document is ${OCI_MANIFEST.replace(/[.+]/g, '\\$&')} \\(refused as ambiguous\\)$`),
      [child.digest],
    )
  })

  it('refuses a manifest whose layer size is a string (schema, issue 17 item 5)', async () => {
    const digest = sha256(served['size-string']!.body)
    await expectRefused(`${front.host}/${REPO}:size-string`, new RegExp(`^ctr-ts: manifest ${digest} of .*: \\.layers\\[0\\]\\.size must be a number, got a string$`), [digest])
  })

  it('still pulls the coherent manifest through the same front', async () => {
    const r = await ctr(['pull', '-q', `${front.host}/${REPO}:ambiguous-base`], {env: t.env})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect((await ctr(['rmi', `${front.host}/${REPO}:ambiguous-base`], {env: t.env})).exitCode).toBe(0)
  })
})

describe('tar data after the end-of-archive marker (issue 17 item 3)', () => {
  it('is never extracted; the pull succeeds with one warning and the diff_id covers the whole blob', async () => {
    const archive = await buildTar([{name: 'etc', type: 'directory'}, {name: 'etc/kept', type: 'file', content: 'kept\n'}] as TarEntry[])
    expect(archive.subarray(-1024).every((b) => b === 0)).toBe(true)
    const hidden = await buildTar([
      {name: 'etc/hidden', type: 'file', content: 'smuggled\n'},
      {name: 'etc/kept', type: 'file', content: 'overwritten\n'},
    ] as TarEntry[])
    const evil = await layerOf(Buffer.concat([archive, hidden]), 'trailing entries')
    const {ref} = await push('trailing', {layers: [base, evil]})
    const r = await ctr(['pull', ref], {env: t.env})
    expect(r.stderr).not.toMatch(/^ctr-ts:/m)
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toMatch(new RegExp(`ignored ${hidden.length} bytes after the tar end-of-archive marker`))
    const dir = join(t.root, 'layers', evil.diffId.slice(7))
    expect(existsSync(join(dir, 'etc', 'kept'))).toBe(true)
    expect(existsSync(join(dir, 'etc', 'hidden'))).toBe(false)
    const run = await ctr(['run', '--rm', '--network', 'none', ref, 'sh', '-c', 'cat /etc/kept; ls /etc/hidden 2>&1'], {env: t.env})
    expect(run.stdout).toMatch(/^kept\n.*No such file or directory/s)
    expect((await ctr(['rmi', ref], {env: t.env})).exitCode).toBe(0)
  })
})

describe('a pathological /etc/group (issue 17 item 6)', () => {
  it('more than 65536 groups for the user: one clear line, exit 125, quickly, and no container', async () => {
    const group = Array.from({length: 70_000}, (_, i) => `g${i}:x:${100_000 + i}:alice`).join('\n')
    const files = await layerOf(
      await buildTar([
        {name: 'etc', type: 'directory'},
        {name: 'etc/passwd', type: 'file', content: 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n'},
        {name: 'etc/group', type: 'file', content: group},
      ] as TarEntry[]),
      'groups',
    )
    const {ref} = await push('many-groups', {layers: [base, files]})
    expect((await ctr(['pull', '-q', ref], {env: t.env})).exitCode).toBe(0)
    const started = Date.now()
    const r = await ctr(['run', '--rm', '-u', 'alice', ref, 'id'], {env: t.env})
    expect(Date.now() - started).toBeLessThan(30_000)
    expect(r.exitCode).toBe(125)
    expect(r.stderr.trim()).toBe("ctr-ts: user alice is a member of more than 65536 groups in the image's /etc/group (the kernel's limit)")
    expect((await ctr(['ps', '-a', '-q'], {env: t.env})).stdout.trim()).toBe('')
    expect((await ctr(['rmi', ref], {env: t.env})).exitCode).toBe(0)
  })
})
