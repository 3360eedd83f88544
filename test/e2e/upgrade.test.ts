/**
 * A store written by ctr-ts 0.x keeps working. That version's container records named their
 * lower directories by absolute path (`lowerDirs`, topmost first), held no lease, and the store
 * had no `store-format` file; image records, blobs, layers and bundles are the same as today.
 * The store is made by today's binary, then its containers are put back in the 0.x form (the
 * record fields as src/container/create.ts wrote them before the store split), and the new
 * binary is run against it: the first command upgrades it once, after which ps, start, rm, rmi,
 * run and image prune work and the leases are right.
 */
import {existsSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'

const env = testEnv()
const bb = env.fixtures.busybox!
const ml = env.fixtures['multilayer-gzip']!
const hex = (d: string) => d.replace(/^sha256:/, '')
let t: TempRoot
const ids: Record<string, string> = {}

const layerDir = (d: string) => join(t.root, 'layers', hex(d))
const recordPath = (id: string) => join(t.root, 'containers', id, 'container.json')
const leases = () => (existsSync(join(t.root, 'leases')) ? readdirSync(join(t.root, 'leases')).sort() : [])
const run = async (args: string[], code = 0) => {
  const res = await ctr(args, {env: t.env})
  expect(res.exitCode, `${args.join(' ')}: ${res.stderr}`).toBe(code)
  return res
}

/** Rewrites a record in the 0.x form: `lowerDirs` (absolute layer paths, topmost first) instead of `diffIds`. */
function downgrade(id: string): void {
  const {diffIds, ...rest} = JSON.parse(readFileSync(recordPath(id), 'utf8')) as {diffIds: string[]}
  const lowerDirs = [...diffIds].reverse().map((d) => layerDir(d))
  writeFileSync(recordPath(id), JSON.stringify({...rest, lowerDirs}, null, 2) + '\n', {mode: 0o600})
}

interface PsRow {
  ID: string
  Names: string
  State: string
  Status: string
}
/** `ps --format json`: one object per line, as docker. */
const ps = async () =>
  (await run(['ps', '-a', '--no-trunc', '--format', 'json'])).stdout
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as PsRow)

beforeAll(async () => {
  t = tempRoot()
  await run(['pull', '-q', bb.ref])
  await run(['pull', '-q', ml.ref])
  ids.bb = (await run(['create', '--name', 'old-bb', '--network', 'none', bb.ref, 'true'])).stdout.trim()
  ids.ml = (await run(['create', '--name', 'old-ml', '--network', 'none', ml.ref, 'sh', '-c', 'test -e /data/keep'])).stdout.trim()
  await run(['start', '-a', 'old-ml'])
  // back to the 0.x form: old records, no leases, no format mark
  downgrade(ids.bb)
  downgrade(ids.ml)
  rmSync(join(t.root, 'leases'), {recursive: true, force: true})
  rmSync(join(t.root, 'store-format'), {force: true})
}, 180_000)

afterAll(async () => {
  await t?.cleanup()
})

describe('a store of ctr-ts 0.x', () => {
  it('is upgraded once by the first command: each container leases its layers, records keep diff ids', async () => {
    const rows = await ps()
    expect(rows.map((r) => r.Names).sort()).toEqual(['old-bb', 'old-ml'])
    expect(rows.find((r) => r.Names === 'old-ml')).toMatchObject({State: 'exited', Status: expect.stringMatching(/^Exited \(0\) /)})
    expect(readFileSync(join(t.root, 'store-format'), 'utf8').trim()).toBe('2')
    expect(leases()).toEqual([`container-${ids.bb}.json`, `container-${ids.ml}.json`].sort())
    const lease = JSON.parse(readFileSync(join(t.root, 'leases', `container-${ids.ml}.json`), 'utf8')) as {image: string; holder: string; layers: string[]}
    expect(lease).toMatchObject({image: ml.configDigest, holder: 'old-ml', layers: ml.diffIds})
    for (const id of [ids.bb, ids.ml]) {
      const rec = JSON.parse(readFileSync(recordPath(id!), 'utf8')) as {lowerDirs?: unknown; diffIds: string[]}
      expect(rec.lowerDirs).toBeUndefined()
      expect(rec.diffIds).toEqual(id === ids.bb ? bb.diffIds : ml.diffIds)
    }
    const images = (await run(['images', '-q', '--no-trunc'])).stdout.trim().split('\n').sort()
    expect(images).toEqual([bb.configDigest, ml.configDigest].sort())
  })

  it('its containers start again, hold their layers after rmi -f, and release them at rm', async () => {
    await run(['rmi', '-f', ml.ref])
    await run(['image', 'prune', '-f'])
    for (const d of ml.diffIds) expect(existsSync(layerDir(d)), d).toBe(true)
    await run(['start', '-a', 'old-ml'])
    await run(['rm', 'old-ml'])
    expect(leases()).toEqual([`container-${ids.bb}.json`])
    await run(['image', 'prune', '-f'])
    // the base layer is shared with busybox (same diff id); the others go
    expect(existsSync(layerDir(bb.diffIds[0]!))).toBe(true)
    for (const d of ml.diffIds.slice(1)) expect(existsSync(layerDir(d)), d).toBe(false)
  })

  it('rmi refuses the image an old container uses; run, rm and prune work', async () => {
    const refused = await run(['rmi', bb.ref], 1)
    expect(refused.stderr.trim()).toMatch(/being used by container old-bb$/)
    const r = await run(['run', '--rm', '--network', 'none', bb.ref, 'sh', '-c', 'echo ok'])
    expect(r.stdout).toBe('ok\n')
    expect(leases()).toEqual([`container-${ids.bb}.json`]) // --rm released its own lease
    await run(['rm', 'old-bb'])
    await run(['rmi', bb.ref])
    await run(['image', 'prune', '-a', '-f'])
    expect(leases()).toEqual([])
    expect(readdirSync(join(t.root, 'layers')).filter((n) => /^[a-f0-9]{64}$/.test(n))).toEqual([])
    expect(readdirSync(join(t.root, 'blobs', 'sha256'))).toEqual([])
    expect(await ps()).toEqual([])
  })
})
