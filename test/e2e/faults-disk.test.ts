/**
 * A full disk during pull and unpack (issue 17, Faults), as the unprivileged user: the store is on
 * a small tmpfs that test/entry.mjs mounts as root (48 MiB, owned by the test user, path in
 * CTR_TS_TEST_SMALLFS). Filling it first with a ballast file makes the download fail; leaving
 * room for the blobs only makes the unpack fail. Each time: one clear "no space left on device"
 * line, exit 1, a consistent store; once space is freed the pull resumes (verified blobs are
 * kept, not downloaded again) and the image runs.
 */
import {randomBytes} from 'node:crypto'
import {existsSync, mkdirSync, readdirSync, rmSync, statfsSync, statSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, removeTree, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {baseLayerEntries, buildImage, type BuiltLayer} from '../harness/fixtures.js'
import {RegistryClient, sha256} from '../harness/push.js'
import {buildTar, compress, type TarEntry} from '../harness/tar.js'
import {expectBlobsSound} from '../harness/store.js'

const smallFs = process.env.CTR_TS_TEST_SMALLFS
if (!smallFs && process.env.CI) {
  // In CI the entry script must have mounted it: a skip would hide a missing fault test.
  throw new Error('CTR_TS_TEST_SMALLFS is not set: run the suite through `npm test` as root (test/entry.mjs mounts the small tmpfs)')
}

const MiB = 1024 * 1024
const BIG = 16 * MiB

let t: TempRoot
let root: string
let ref: string
let bigDigest: string
const env = () => ({...t.env, CTR_TS_ROOT: root})

async function layer(entries: TarEntry[], createdBy: string): Promise<BuiltLayer> {
  const tar = await buildTar(entries)
  const none = {data: tar, digest: sha256(tar), mediaType: 'application/vnd.oci.image.layer.v1.tar'}
  const gz = compress(tar, 'gzip')
  return {
    tar,
    diffId: sha256(tar),
    createdBy,
    blobs: {none, zstd: none, gzip: {data: gz, digest: sha256(gz), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip'}},
  }
}

function free(): number {
  const s = statfsSync(smallFs!)
  return s.bavail * s.bsize
}

/** Fills the small filesystem until `leave` bytes are free. */
function ballast(leave: number): void {
  const path = join(smallFs!, 'ballast')
  rmSync(path, {force: true})
  const size = free() - leave
  if (size > 0) writeFileSync(path, Buffer.alloc(size))
}

function expectOneNoSpaceLine(stderr: string): void {
  const lines = stderr.trim().split('\n')
  expect(lines, stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^ctr-ts: .*no space left on device/i)
}

async function expectConsistent(): Promise<void> {
  const c = await ctr(['system', 'check', '--store'], {env: env()})
  expect(c.stdout.trim().split('\n').at(-1), c.stdout).toBe('store is consistent')
  expect(c.exitCode).toBe(0)
  expectBlobsSound(root)
  expect(existsSync(join(root, 'ingest')) ? readdirSync(join(root, 'ingest')) : []).toEqual([])
  expect((existsSync(join(root, 'layers')) ? readdirSync(join(root, 'layers')) : []).filter((n) => n.startsWith('.tmp-'))).toEqual([])
  expect((await ctr(['images', '-q'], {env: env()})).stdout.trim()).toBe('')
}

beforeAll(async () => {
  if (!smallFs) return
  t = tempRoot()
  root = join(smallFs, `store-${process.pid}`)
  mkdirSync(root, {recursive: true, mode: 0o700})
  const base = await layer(baseLayerEntries(), 'base')
  const big = await layer(
    [
      {name: 'big', type: 'directory'},
      {name: 'big/data', type: 'file', content: randomBytes(BIG)},
    ],
    'big random file',
  )
  const image = buildImage({layers: [base, big], compression: 'none'})
  bigDigest = image.layers[1]!.digest
  const registry = testEnv().plainRegistry
  const client = new RegistryClient(registry)
  for (const blob of [image.config, ...image.layers]) await client.pushBlob('fixtures/diskfull', blob.data, blob.digest)
  await client.pushManifest('fixtures/diskfull', 'latest', image.manifest, image.manifestMediaType)
  ref = `${registry}/fixtures/diskfull:latest`
}, 120_000)

afterAll(async () => {
  if (!smallFs) return
  rmSync(join(smallFs, 'ballast'), {force: true})
  await removeTree(root)
  await t?.cleanup()
})

describe.skipIf(!smallFs)('a full disk (small tmpfs store)', () => {
  it('during the download, then during the unpack: one clear line and a consistent store; the pull resumes once space is freed', async () => {
    // 1. hardly any room: the download fails
    ballast(4 * MiB)
    const first = await ctr(['pull', '-q', ref], {env: env()})
    expect(first.exitCode).toBe(1)
    expectOneNoSpaceLine(first.stderr)
    rmSync(join(smallFs!, 'ballast'), {force: true})
    await expectConsistent()

    // 2. room for the blobs but not for the unpacked layer: the unpack fails, the verified blobs stay
    ballast(BIG + 8 * MiB)
    const second = await ctr(['pull', '-q', ref], {env: env()})
    expect(second.exitCode).toBe(1)
    expectOneNoSpaceLine(second.stderr)
    const blob = join(root, 'blobs', 'sha256', bigDigest.slice(7))
    expect(existsSync(blob)).toBe(true)
    const inode = statSync(blob).ino
    rmSync(join(smallFs!, 'ballast'), {force: true})
    await expectConsistent()

    // 3. space freed: the pull resumes (the big blob is not downloaded again) and the image runs
    const third = await ctr(['pull', ref], {env: env()})
    expect(third.exitCode, third.stderr).toBe(0)
    expect(third.stderr).toContain(`${bigDigest.slice(7, 19)}: already exists`)
    expect(statSync(blob).ino).toBe(inode)
    const run = await ctr(['run', '--rm', ref, 'sh', '-c', 'wc -c < /big/data'], {env: env()})
    expect(run.stderr).toBe('')
    expect(run.stdout.trim()).toBe(String(BIG))
    const c = await ctr(['system', 'check', '--store'], {env: env()})
    expect(c.exitCode, c.stdout).toBe(0)

    // 4. a container writing to a full disk gets ENOSPC from write(); --rm still leaves nothing behind
    ballast(64 * 1024)
    // (fuse-overlayfs's writeback cache used to swallow this: the copy "succeeded" with its data lost)
    const full = await ctr(['run', '--rm', ref, 'sh', '-c', 'cat /big/data > /copy'], {env: env()})
    expect(full.exitCode).toBe(1)
    expect(full.stderr).toMatch(/no space left on device/i)
    rmSync(join(smallFs!, 'ballast'), {force: true})
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout.trim()).toBe('')
    expect(readdirSync(join(root, 'containers'))).toEqual([])
    expect((await ctr(['rmi', ref], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['system', 'prune', '-f'], {env: env()})).exitCode).toBe(0)
    expect(readdirSync(join(root, 'blobs', 'sha256'))).toEqual([])
    expect(readdirSync(join(root, 'layers'))).toEqual([])
  }, 180_000)
})
