/**
 * `images` / `image ls`, `image inspect`, `rmi` and `image prune` against a store filled by real
 * pulls from the test registry.
 */
import {existsSync, mkdirSync, readdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'

const env = testEnv()
const roots: TempRoot[] = []
afterAll(async () => {
  await Promise.all(roots.map((r) => r.cleanup()))
})
const hex = (d: string) => d.replace(/^sha256:/, '')
const blob = (t: TempRoot, d: string) => join(t.root, 'blobs', 'sha256', hex(d))
const layerDir = (t: TempRoot, d: string) => join(t.root, 'layers', hex(d))

async function pulled(...keys: string[]): Promise<TempRoot> {
  const t = tempRoot()
  roots.push(t)
  for (const k of keys) {
    const res = await ctr(['pull', '-q', env.fixtures[k]!.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
  }
  return t
}

function splitRef(ref: string): {repo: string; tag: string} {
  const colon = ref.lastIndexOf(':')
  return {repo: ref.slice(0, colon), tag: ref.slice(colon + 1)}
}

/** A container (created, never started) using `image`: it leases the image's layers. */
async function container(t: TempRoot, image: string, name = 'user1'): Promise<void> {
  const res = await ctr(['create', '--name', name, '--network', 'none', image, 'true'], {env: t.env})
  expect(res.exitCode, res.stderr).toBe(0)
}

describe('images', () => {
  it('lists images as a table, as JSON and as ids; image ls is the same', async () => {
    const bb = env.fixtures.busybox!
    const ml = env.fixtures['multilayer-gzip']!
    const t = await pulled('busybox', 'multilayer-gzip')
    const table = await ctr(['images'], {env: t.env})
    expect(table.exitCode, table.stderr).toBe(0)
    const lines = table.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^REPOSITORY\s+TAG\s+IMAGE ID\s+CREATED\s+SIZE$/)
    expect(lines).toHaveLength(3)
    for (const f of [bb, ml]) {
      const {repo, tag} = splitRef(f.ref)
      const line = lines.find((l) => l.startsWith(`${repo} `))
      expect(line, `${repo} in\n${table.stdout}`).toBeDefined()
      expect(line!.split(/\s{3,}/).slice(0, 3)).toEqual([repo, tag, hex(f.configDigest).slice(0, 12)])
      expect(line).toMatch(/\d+(\.\d+)?[kMG]?B$/)
    }
    const ls = await ctr(['image', 'ls'], {env: t.env})
    expect(ls.stdout).toBe(table.stdout)

    // docker's JSON lines; --no-trunc gives full ids
    const json = await ctr(['images', '--no-trunc', '--format', 'json'], {env: t.env})
    const rows = json.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as {Repository: string; Tag: string; ID: string; Digest: string; Size: string})
    expect(rows.map((r) => r.ID).sort()).toEqual([bb.configDigest, ml.configDigest].sort())
    expect(rows.find((r) => r.ID === bb.configDigest)!.Digest).toBe(bb.manifestDigest)

    const q = await ctr(['images', '-q'], {env: t.env})
    expect(q.stdout.trim().split('\n').sort()).toEqual([hex(bb.configDigest).slice(0, 12), hex(ml.configDigest).slice(0, 12)].sort())
  })

  it('shows familiar names for docker.io images', async () => {
    const t = tempRoot()
    roots.push(t)
    t.writeConfig({registries: {'docker.io': {mirrors: [`http://${env.plainRegistry}`]}}})
    expect((await ctr(['pull', '-q', 'alpine'], {env: t.env})).exitCode).toBe(0)
    const res = await ctr(['images'], {env: t.env})
    expect(res.stdout.split('\n')[1]).toMatch(/^alpine\s+latest\s+[a-f0-9]{12}\s/)
    const inspect = JSON.parse((await ctr(['image', 'inspect', 'alpine'], {env: t.env})).stdout)
    expect(inspect[0].RepoTags).toEqual(['alpine:latest'])
  })
})

describe('image inspect', () => {
  it('prints a JSON array with the image details, by name, id or id prefix', async () => {
    const f = env.fixtures.index!
    const t = await pulled('index')
    for (const name of [f.ref, f.configDigest, hex(f.configDigest).slice(0, 8)]) {
      const res = await ctr(['image', 'inspect', name], {env: t.env})
      expect(res.exitCode, res.stderr).toBe(0)
      const [img] = JSON.parse(res.stdout)
      expect(img.Id).toBe(f.configDigest)
      expect(img.RepoTags).toEqual([f.ref])
      expect(img.RepoDigests).toEqual([`${splitRef(f.ref).repo}@${f.indexDigest}`])
      expect(img.Digest).toBe(f.indexDigest)
      expect(img.Os).toBe('linux')
      expect(img.Architecture).toBe('amd64')
      expect(img.RootFS).toEqual({Type: 'layers', Layers: f.diffIds})
      expect(img.Layers.map((l: {Digest: string}) => l.Digest)).toEqual(f.layerDigests)
      expect(img.MediaType).toBe('application/vnd.oci.image.manifest.v1+json')
      expect(img.Size).toBeGreaterThan(0)
      expect(img.Config).toBeTypeOf('object')
      expect(typeof img.Created).toBe('string')
    }
  })

  it('fails for an unknown image, still printing the known ones', async () => {
    const t = await pulled('busybox')
    const res = await ctr(['image', 'inspect', env.fixtures.busybox!.ref, 'nope:1'], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(JSON.parse(res.stdout)).toHaveLength(1)
    expect(res.stderr.trim()).toBe('ctr-ts: no such image: nope:1')
  })
})

describe('rmi', () => {
  it('removes an image and the blobs and layers only it used', async () => {
    const bb = env.fixtures.busybox!
    const ml = env.fixtures['multilayer-gzip']!
    const t = await pulled('busybox', 'multilayer-gzip')
    const res = await ctr(['rmi', ml.ref], {env: t.env})
    expect(res.exitCode, res.stderr).toBe(0)
    expect(res.stdout).toContain(`Untagged: ${ml.ref}`)
    expect(res.stdout).toContain(`Deleted: ${ml.configDigest}`)
    for (const d of [ml.manifestDigest, ml.configDigest]) expect(existsSync(blob(t, d))).toBe(false)
    // the base layer is shared with busybox (same diff id): its directory stays
    expect(existsSync(layerDir(t, bb.diffIds[0]!))).toBe(true)
    for (const d of ml.diffIds.slice(1)) expect(existsSync(layerDir(t, d))).toBe(false)
    for (const d of bb.layerDigests) expect(existsSync(blob(t, d))).toBe(true)
    const list = await ctr(['images', '-q'], {env: t.env})
    expect(list.stdout.trim()).toBe(hex(bb.configDigest).slice(0, 12))
  })

  it('removes by id prefix, refuses an image a container uses unless -f', async () => {
    const bb = env.fixtures.busybox!
    const t = await pulled('busybox')
    await container(t, bb.configDigest, 'web')
    const refused = await ctr(['rmi', hex(bb.configDigest).slice(0, 12)], {env: t.env})
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr.trim()).toMatch(/^ctr-ts: unable to remove image .* being used by container web$/)
    expect(existsSync(blob(t, bb.configDigest))).toBe(true)
    const forced = await ctr(['rmi', '-f', hex(bb.configDigest).slice(0, 12)], {env: t.env})
    expect(forced.exitCode, forced.stderr).toBe(0)
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe('')
  })

  it('reports an unknown image', async () => {
    const t = await pulled()
    const res = await ctr(['rmi', 'nope'], {env: t.env})
    expect(res.exitCode).toBe(1)
    expect(res.stderr.trim()).toBe('ctr-ts: no such image: nope')
  })
})

describe('image prune', () => {
  it('without -a removes only unreferenced content; with -a every unused image', async () => {
    const bb = env.fixtures.busybox!
    const ml = env.fixtures['multilayer-none']!
    const t = await pulled('busybox', 'multilayer-none')
    // unreferenced content: a blob nothing points to
    const orphan = 'sha256:' + 'e'.repeat(64)
    writeFileSync(blob(t, orphan), 'orphan')
    const dangling = await ctr(['image', 'prune', '-f'], {env: t.env})
    expect(dangling.exitCode, dangling.stderr).toBe(0)
    expect(dangling.stdout).toContain('Total reclaimed space')
    expect(existsSync(blob(t, orphan))).toBe(false)
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim().split('\n')).toHaveLength(2)

    await container(t, bb.configDigest)
    const all = await ctr(['image', 'prune', '-a', '-f'], {env: t.env})
    expect(all.exitCode, all.stderr).toBe(0)
    expect(all.stdout).toContain(`Untagged: ${ml.ref}`)
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe(hex(bb.configDigest).slice(0, 12))
    expect(existsSync(blob(t, ml.configDigest))).toBe(false)
    const left = readdirSync(join(t.root, 'blobs', 'sha256')).sort()
    expect(left).toEqual([bb.manifestDigest, bb.configDigest, ...bb.layerDigests].map(hex).sort())
  })

  it('asks for confirmation without -f', async () => {
    const t = await pulled('busybox')
    const no = await ctr(['image', 'prune', '-a'], {env: t.env, input: 'n\n'})
    expect(no.exitCode).toBe(0)
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).not.toBe('')
    const yes = await ctr(['image', 'prune', '-a'], {env: t.env, input: 'y\n'})
    expect(yes.exitCode, yes.stderr).toBe(0)
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe('')
  })
})
