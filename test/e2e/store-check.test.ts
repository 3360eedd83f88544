/**
 * `ctr-ts system check --store [--repair]` through the binary, as the unprivileged user: a
 * corrupt blob, a layer without its completeness marker, a record with a broken reference and
 * leftovers of a killed create are each reported; --repair removes them; pulls and runs work again.
 */
import {createHash} from 'node:crypto'
import {appendFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv, type FixtureInfo} from '../harness/env.js'
import {expectBlobsSound} from '../harness/store.js'

let t: TempRoot
let busybox: FixtureInfo
let multi: FixtureInfo
const env = () => t.env
const hex = (d: string) => d.slice('sha256:'.length)
const recordFile = (ref: string) => join(t.root, 'images', `${createHash('sha256').update(ref).digest('hex')}.json`)

async function check(...extra: string[]) {
  return ctr(['system', 'check', '--store', ...extra], {env: env(), timeoutMs: 60_000})
}

beforeAll(async () => {
  t = tempRoot()
  busybox = testEnv().fixtures.busybox!
  multi = testEnv().fixtures['multilayer-gzip']!
  for (const f of [busybox, multi]) expect((await ctr(['pull', '-q', f.ref], {env: env()})).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
})

describe('system check --store', () => {
  it('a sound store: every blob, layer and record checked, exit 0', async () => {
    const r = await check()
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/\d+ blobs, \d+ unpacked layers, 2 image records, 0 containers checked/)
    expect(r.stdout.trim().split('\n').at(-1)).toBe('store is consistent')
    const j = await check('--format', 'json')
    expect(j.exitCode).toBe(0)
    expect((JSON.parse(j.stdout) as {issues: unknown[]}).issues).toEqual([])
  })

  it('reports a corrupt blob, a layer without its marker, a broken reference and a killed create; --repair fixes them; pull works again', async () => {
    // a corrupt layer blob of the multilayer image
    const blob = join(t.root, 'blobs', 'sha256', hex(multi.layerDigests.at(-1)!))
    appendFileSync(blob, 'garbage')
    // busybox's (only) layer loses its completeness marker
    const marker = join(t.root, 'layers', `${hex(busybox.diffIds[0]!)}.complete`)
    expect(existsSync(marker)).toBe(true)
    rmSync(marker)
    // a second reference to busybox whose manifest does not exist
    const alias = `${busybox.ref.split(':').slice(0, -1).join(':')}:alias`
    const rec = JSON.parse(readFileSync(recordFile(normalize(busybox.ref)), 'utf8')) as {ref: string; manifestDigest: string}
    rec.ref = normalize(alias)
    rec.manifestDigest = `sha256:${'0'.repeat(64)}`
    writeFileSync(recordFile(rec.ref), JSON.stringify(rec))
    // a container directory and a name left by a killed create (its creator's pid is gone)
    const id = 'f'.repeat(64)
    mkdirSync(join(t.root, 'containers', id, 'bundle'), {recursive: true})
    writeFileSync(join(t.root, 'containers', id, 'creating'), '999999999\n')
    mkdirSync(join(t.root, 'names'), {recursive: true})
    writeFileSync(join(t.root, 'names', 'half-made'), id)
    await new Promise((r) => setTimeout(r, 5_200)) // past the grace period for a create in progress

    const r = await check()
    expect(r.exitCode).toBe(1)
    expect(r.stderr.trim().split('\n')).toEqual([expect.stringMatching(/^ctr-ts: the store has \d+ problem\(s\): run ctr-ts system check --store --repair$/)])
    expect(r.stdout).toContain(`blob ${multi.layerDigests.at(-1)}: content does not match its digest`)
    expect(r.stdout).toContain(`layer ${busybox.diffIds[0]}: no completeness marker`)
    expect(r.stdout).toContain(`image ${normalize(alias)}: missing or broken: manifest sha256:${'0'.repeat(64)}`)
    expect(r.stdout).toContain(`image ${normalize(multi.ref)}: missing or broken: `)
    expect(r.stdout).toContain(`image ${normalize(busybox.ref)}: missing or broken: unpacked layer ${busybox.diffIds[0]}`)
    expect(r.stdout).toMatch(/leftover \S+\/containers\/f{64}: container directory without a record/)
    expect(r.stdout).toContain('name half-made: reserved for a container that does not exist')
    // checking changes nothing
    expect(existsSync(blob)).toBe(true)

    const fixed = await check('--repair')
    expect(fixed.stderr).toBe('')
    expect(fixed.exitCode).toBe(0)
    expect(fixed.stdout).toMatch(/\[repaired\]/)
    expect(fixed.stdout).not.toMatch(/not repaired/)
    expect(existsSync(blob)).toBe(false)
    expect(existsSync(join(t.root, 'layers', hex(busybox.diffIds[0]!)))).toBe(false)
    expect(existsSync(join(t.root, 'containers', id))).toBe(false)
    expect(existsSync(join(t.root, 'names', 'half-made'))).toBe(false)
    expect((await check()).stdout.trim().split('\n').at(-1)).toBe('store is consistent')

    // the images are gone until pulled again; the next pull fetches what was removed
    expect((await ctr(['images', '-q'], {env: env()})).stdout.trim()).toBe('')
    for (const f of [busybox, multi]) {
      const p = await ctr(['pull', '-q', f.ref], {env: env()})
      expect(p.stderr).toBe('')
      expect(p.exitCode).toBe(0)
    }
    expect(existsSync(blob)).toBe(true)
    expect(existsSync(marker)).toBe(true)
    const run = await ctr(['run', '--rm', busybox.ref, 'cat', '/etc/passwd'], {env: env()})
    expect(run.exitCode).toBe(0)
    expect(run.stdout).toContain('root:')
    expect((await ctr(['run', '--rm', multi.ref, 'true'], {env: env()})).exitCode).toBe(0)
    expectBlobsSound(t.root)
    const after = await check()
    expect(after.stdout.trim().split('\n').at(-1)).toBe('store is consistent')
    expect(after.exitCode).toBe(0)
  }, 120_000)

  it('leaves a broken layer a container uses (and says so); --repair without --store is a usage error', async () => {
    const id = (await ctr(['create', '--name', 'user-of-layer', busybox.ref, 'true'], {env: env()})).stdout.trim()
    expect(id).toMatch(/^[a-f0-9]{64}$/)
    rmSync(join(t.root, 'layers', `${hex(busybox.diffIds[0]!)}.complete`))
    const r = await check('--repair')
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain(`layer ${busybox.diffIds[0]}: no completeness marker (unpacking never finished) [not repaired: used by a container: remove the container first]`)
    expect(r.stdout).toContain('container user-of-layer: its layer')
    expect(r.stderr.trim()).toBe('ctr-ts: the store has 2 problem(s) that could not be repaired')
    expect(existsSync(join(t.root, 'layers', hex(busybox.diffIds[0]!)))).toBe(true)
    expect((await ctr(['rm', 'user-of-layer'], {env: env()})).exitCode).toBe(0)
    expect((await check('--repair')).exitCode).toBe(0)
    expect((await ctr(['pull', '-q', busybox.ref], {env: env()})).exitCode).toBe(0)
    expect((await check()).exitCode).toBe(0)

    const usage = await ctr(['system', 'check', '--repair'], {env: env()})
    expect(usage.exitCode).toBe(1)
    expect(usage.stderr.trim()).toBe('ctr-ts: --repair needs --store')
  }, 120_000)
})

/** 127.0.0.1:PORT/fixtures/x:tag is stored as is (a registry with a port is never docker.io). */
function normalize(ref: string): string {
  return ref
}
