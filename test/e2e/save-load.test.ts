/**
 * `save` / `load` in both archive formats, against skopeo and podman (as the test user, with
 * its own storage in a temporary HOME) in both directions.
 */
import {execFileSync} from 'node:child_process'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, removeTree, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'

const env = testEnv()
const ml = env.fixtures['multilayer-gzip']!
let t: TempRoot
let dir: string
const roots: TempRoot[] = []

beforeAll(async () => {
  t = tempRoot()
  dir = mkdtempSync(join(tmpdir(), 'ctr-save-'))
  const r = await ctr(['pull', '-q', ml.ref], {env: t.env})
  expect(r.exitCode, r.stderr).toBe(0)
}, 120_000)
afterAll(async () => {
  await t?.cleanup()
  await Promise.all(roots.map((r) => r.cleanup()))
  await removeTree(dir)
})

function fresh(): TempRoot {
  const r = tempRoot()
  roots.push(r)
  return r
}

/** podman with storage of its own under `dir` (vfs: no fuse, no root). */
function podman(args: string[]): string {
  const home = join(dir, 'podman-home')
  const out = execFileSync(
    'podman',
    ['--root', join(home, 'storage'), '--runroot', join(home, 'run'), '--storage-driver', 'vfs', '--cgroup-manager', 'cgroupfs', '--events-backend', 'file', ...args],
    {env: {...process.env, HOME: home, XDG_RUNTIME_DIR: join(home, 'xdg'), XDG_CONFIG_HOME: join(home, 'config')}, stdio: ['ignore', 'pipe', 'pipe'], timeout: 120_000},
  )
  return out.toString()
}

/** The config digest an archive names (docker-archive manifest.json, or through the OCI index). */
function archiveConfigDigest(file: string): string {
  const read = (name: string) => execFileSync('tar', ['-xOf', file, name]).toString()
  const names = execFileSync('tar', ['-tf', file]).toString().split('\n')
  if (names.includes('manifest.json')) return `sha256:${JSON.parse(read('manifest.json'))[0].Config.replace(/^blobs\/sha256\//, '').replace(/\.json$/, '')}`
  const index = JSON.parse(read('index.json'))
  const manifest = JSON.parse(read(`blobs/sha256/${index.manifests[0].digest.slice(7)}`))
  return manifest.config.digest
}

async function imageId(root: TempRoot, ref: string): Promise<string> {
  const r = await ctr(['image', 'inspect', ref], {env: root.env})
  expect(r.exitCode, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as Array<{Id: string}>)[0]!.Id
}

async function runsWithData(root: TempRoot, ref: string): Promise<void> {
  const r = await ctr(['run', '--rm', '--network', 'none', ref, 'cat', '/data/dir/new'], {env: root.env})
  expect(r.exitCode, r.stderr).toBe(0)
  expect(r.stdout).toBe('new\n')
}

describe('save / load', () => {
  it('save -o writes a docker-archive that loads back (plain and gzip, file and stdin) and runs', async () => {
    const file = join(dir, 'ml.tar')
    const s = await ctr(['save', '-o', file, ml.ref], {env: t.env})
    expect(s.exitCode, s.stderr).toBe(0)
    const listing = execFileSync('tar', ['-tf', file]).toString().split('\n').filter(Boolean).sort()
    expect(listing).toEqual(
      ['manifest.json', 'repositories', `${ml.configDigest.slice(7)}.json`, ...ml.diffIds.map((d) => `${d.slice(7)}.tar`)].sort(),
    )
    const manifest = JSON.parse(execFileSync('tar', ['-xOf', file, 'manifest.json']).toString())
    expect(manifest[0].RepoTags).toEqual([ml.ref])

    const a = fresh()
    const l = await ctr(['load', '-i', file], {env: a.env})
    expect(l.exitCode, l.stderr).toBe(0)
    expect(l.stdout).toBe(`Loaded image: ${ml.ref}\n`)
    expect(await imageId(a, ml.ref)).toBe(ml.configDigest)
    await runsWithData(a, ml.ref)

    const b = fresh()
    const gz = join(dir, 'ml.tar.gz')
    writeFileSync(gz, gzipSync(readFileSync(file)))
    const viaStdin = execFileSync('sh', ['-c', `node ${join(process.cwd(), 'bin', 'run.js')} load < ${gz}`], {env: {...process.env, ...b.env}}).toString()
    expect(viaStdin).toBe(`Loaded image: ${ml.ref}\n`)
    expect(await imageId(b, ml.ref)).toBe(ml.configDigest)
  }, 180_000)

  it('save to stdout as oci-archive: skopeo reads it with the same manifest digest; it loads back', async () => {
    const file = join(dir, 'ml.oci.tar')
    execFileSync('sh', ['-c', `node ${join(process.cwd(), 'bin', 'run.js')} save --format oci-archive ${ml.ref} > ${file}`], {env: {...process.env, ...t.env}})
    const raw = execFileSync('skopeo', ['inspect', '--raw', `oci-archive:${file}`])
    const {createHash} = await import('node:crypto')
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(ml.manifestDigest)
    const c = fresh()
    const l = await ctr(['load', '-i', file], {env: c.env})
    expect(l.exitCode, l.stderr).toBe(0)
    expect(l.stdout).toBe(`Loaded image: ${ml.ref}\n`)
    expect(await imageId(c, ml.ref)).toBe(ml.configDigest)
    await runsWithData(c, ml.ref)
  }, 180_000)

  it('podman loads what ctr-ts saves, and ctr-ts loads what podman saves (docker-archive and oci-archive)', async () => {
    const file = join(dir, 'for-podman.tar')
    expect((await ctr(['save', '-o', file, ml.ref], {env: t.env})).exitCode).toBe(0)
    const loaded = podman(['load', '-i', file])
    expect(loaded).toContain(ml.ref)
    const id = podman(['image', 'inspect', '--format', '{{.Id}}', ml.ref]).trim()
    expect(`sha256:${id}`).toBe(ml.configDigest)

    // skopeo reads the docker-archive too
    const ociDir = join(dir, 'oci-dir')
    execFileSync('skopeo', ['copy', `docker-archive:${file}`, `oci:${ociDir}:copied`], {stdio: 'ignore'})
    const index = JSON.parse(readFileSync(join(ociDir, 'index.json'), 'utf8'))
    expect(index.manifests).toHaveLength(1)

    const tag = `localhost/podman-saved/ml:${process.pid}`
    podman(['tag', ml.ref, tag])
    // podman may rewrite the config when it saves (a Docker v2 one); the id is whatever it says
    const podmanId = `sha256:${podman(['image', 'inspect', '--format', '{{.Id}}', tag]).trim()}`
    for (const format of ['docker-archive', 'oci-archive']) {
      const out = join(dir, `podman-${format}.tar`)
      podman(['save', '--format', format, '-o', out, tag])
      const d = fresh()
      const l = await ctr(['load', '-i', out], {env: d.env})
      expect(l.exitCode, `${format}: ${l.stderr}`).toBe(0)
      expect(l.stdout).toMatch(/^Loaded image: /)
      const name = l.stdout.trim().slice('Loaded image: '.length)
      expect(await imageId(d, name), format).toBe(archiveConfigDigest(out))
      if (format === 'docker-archive') expect(archiveConfigDigest(out)).toBe(podmanId)
      await runsWithData(d, name)
    }
  }, 300_000)

  it('refuses an archive that is not one and a missing image', async () => {
    const bogus = join(dir, 'bogus.tar')
    writeFileSync(bogus, 'not a tar at all')
    const l = await ctr(['load', '-i', bogus], {env: t.env})
    expect(l.exitCode).not.toBe(0)
    expect(l.stderr).toMatch(/^ctr-ts: load: /)
    const s = await ctr(['save', '-o', join(dir, 'none.tar'), 'nothing/here:1'], {env: t.env})
    expect(s.exitCode).not.toBe(0)
    expect(s.stderr).toBe('ctr-ts: no such image: nothing/here:1\n')
  }, 60_000)
})
