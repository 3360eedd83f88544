/**
 * Hostile images: layers whose entries try to write outside their directory are refused at pull
 * with one clear line naming the layer and the entry, and nothing is written outside the store
 * nor left half-unpacked in it.
 */
import {existsSync, readdirSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {baseLayerEntries, buildImage, type BuiltLayer} from '../harness/fixtures.js'
import {RegistryClient, sha256} from '../harness/push.js'
import {buildTar, compress, type TarEntry} from '../harness/tar.js'

let t: TempRoot

async function layer(entries: TarEntry[], createdBy: string): Promise<BuiltLayer> {
  const tar = await buildTar(entries)
  const blobs = {} as BuiltLayer['blobs']
  for (const c of ['gzip', 'zstd', 'none'] as const) {
    const data = compress(tar, c)
    blobs[c] = {data, digest: sha256(data), mediaType: c === 'gzip' ? 'application/vnd.oci.image.layer.v1.tar+gzip' : c === 'zstd' ? 'application/vnd.oci.image.layer.v1.tar+zstd' : 'application/vnd.oci.image.layer.v1.tar'}
  }
  return {tar, diffId: sha256(tar), createdBy, blobs}
}

async function pushHostile(tag: string, entries: TarEntry[]): Promise<string> {
  const registry = testEnv().plainRegistry
  const client = new RegistryClient(registry)
  const base = await layer(baseLayerEntries(), 'base')
  const evil = await layer(entries, `hostile ${tag}`)
  const image = buildImage({layers: [base, evil]})
  for (const blob of [image.config, ...image.layers]) await client.pushBlob('fixtures/hostile', blob.data, blob.digest)
  await client.pushManifest('fixtures/hostile', tag, image.manifest, image.manifestMediaType)
  return `${registry}/fixtures/hostile:${tag}`
}

beforeAll(() => {
  t = tempRoot()
})
afterAll(async () => {
  await t?.cleanup()
})

const cases: Array<[string, TarEntry[], RegExp]> = [
  ['dotdot', [{name: '../../../../escaped-dotdot', type: 'file', content: 'x'}], /escaped-dotdot/],
  [
    'symlink-write',
    [
      {name: 'evil', type: 'symlink', linkname: '/tmp'},
      {name: 'evil/escaped-through-symlink', type: 'file', content: 'x'},
    ],
    /evil\/escaped-through-symlink/,
  ],
  [
    'hardlink-out',
    [{name: 'passwd-link', type: 'link', linkname: '../../../../../etc/passwd'}],
    /passwd-link/,
  ],
]

describe('hostile layers', () => {
  for (const [tag, entries, entryName] of cases) {
    it(`refuses ${tag}`, async () => {
      const ref = await pushHostile(tag, entries)
      const r = await ctr(['pull', ref], {env: t.env})
      expect(r.exitCode).not.toBe(0)
      const errLines = r.stderr.trim().split('\n').filter((l) => l.startsWith('ctr-ts:'))
      expect(errLines).toHaveLength(1)
      expect(errLines[0]).toMatch(entryName)
      expect(errLines[0]).toMatch(/sha256:[0-9a-f]{12}/)
      expect(r.stderr).not.toMatch(/\n\s+at /)
      // Nothing escaped, nothing half-visible.
      expect(existsSync('/tmp/escaped-through-symlink')).toBe(false)
      expect(existsSync(join(t.root, '..', 'escaped-dotdot'))).toBe(false)
      const layers = existsSync(join(t.root, 'layers')) ? readdirSync(join(t.root, 'layers')) : []
      expect(layers.filter((l) => l.startsWith('.tmp'))).toEqual([])
      expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe('')
    })
  }
})
