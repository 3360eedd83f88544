/**
 * UnpackSession for real, driven the way `pull` drives it (started first, fed each layer once its
 * blob is in the store, finish() or abort() on failure): one child in a user namespace made by shim/build/ctr-ts-userns
 * (mapping the user's /etc/subuid range) unpacks blobs from a store into the layer store,
 * keeping image owners (image uid 1000 lands on disk as subuid start + 999), and leaves nothing
 * half-unpacked behind on failure. Needs `npm run build` (dist/layer/unpack-main.js, the helper).
 */
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {IntegrityError, LayerError} from '../../src/errors.js'
import {UnpackSession, type LayerEvent} from '../../src/layer/unpack-layers.js'
import type {LayerRecord} from '../../src/oci/types.js'
import {storeLayout, type StoreLayout} from '../../src/paths.js'
import {hasLayer, layerDir} from '../../src/store/layers.js'
import {currentMapping, hostIdOf} from '../../src/userns/idmap.js'
import {removeTree} from '../../src/userns/remove.js'
import {sha256} from '../harness/push.js'
import {buildTar, compress, type TarEntry} from '../harness/tar.js'

let base: string
let store: StoreLayout

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'ctr-ts-unpack-e2e-'))
})
afterAll(async () => {
  await removeTree(base)
})

function freshStore(): StoreLayout {
  const s = storeLayout(mkdtempSync(join(base, 'store-')))
  mkdirSync(s.blobs, {recursive: true})
  return s
}

/** Puts a layer's blob in the store the way the pull code does and returns its record. */
async function storeLayer(s: StoreLayout, entries: TarEntry[], compression: 'gzip' | 'zstd' | 'none', diffId?: string): Promise<LayerRecord> {
  const tar = await buildTar(entries)
  const blob = compress(tar, compression)
  const digest = sha256(blob)
  writeFileSync(join(s.blobs, digest.slice('sha256:'.length)), blob)
  const mediaType = {gzip: 'application/vnd.oci.image.layer.v1.tar+gzip', zstd: 'application/vnd.oci.image.layer.v1.tar+zstd', none: 'application/vnd.oci.image.layer.v1.tar'}[compression]
  return {digest, mediaType, size: blob.length, diffId: diffId ?? sha256(tar)}
}

/** What is in the layer store besides complete layers and their completeness markers. */
const leftovers = (s: StoreLayout) => (existsSync(s.layers) ? readdirSync(s.layers).filter((n) => !/^[a-f0-9]{64}(\.complete)?$/.test(n)) : [])

/** What image/pull.ts does with the layers whose blobs it has: one session, one unpack() per new diff id. */
async function unpackLayers(s: StoreLayout, layers: LayerRecord[], onEvent?: (e: LayerEvent) => void): Promise<void> {
  const session = UnpackSession.start(s, {onEvent})
  try {
    const fresh = [...new Map(layers.filter((l) => !hasLayer(s, l.diffId)).map((l) => [l.diffId, l])).values()]
    await Promise.all(fresh.map((l) => session.unpack(l)))
    await session.finish()
  } catch (err) {
    await session.abort()
    throw err
  }
}

const mapping = currentMapping()
/** Where an image id lands on the host: through the subuid range, or the user when there is none. */
const hostUid = (id: number) => (mapping.full ? hostIdOf(mapping.uids, id) : process.getuid?.())
const hostGid = (id: number) => (mapping.full ? hostIdOf(mapping.gids, id) : process.getgid?.())

const owned: TarEntry[] = [
  {name: 'home', type: 'directory'},
  {name: 'home/app', type: 'directory', uid: 1000, gid: 1000, mode: 0o755},
  {name: 'home/private', type: 'directory', uid: 1000, gid: 1000, mode: 0o700},
  {name: 'home/private/key', type: 'file', uid: 1000, gid: 1000, mode: 0o600, content: 'k'},
  {name: 'home/app/tool', type: 'file', uid: 1000, gid: 1000, mode: 0o4755, content: 'setuid\n', pax: {'SCHILY.xattr.user.origin': 'fixture'}},
  {name: 'home/app/link', type: 'symlink', uid: 1000, gid: 1000, linkname: 'tool'},
  {name: 'etc', type: 'directory'},
  {name: 'etc/shadow', type: 'file', uid: 0, gid: 42, mode: 0o640, content: 'root:*:\n'},
]

describe('UnpackSession (real user namespace)', () => {
  it('unpacks layers handed over as their blobs land, keeping owners through the subuid mapping', async () => {
    store = freshStore()
    const events: LayerEvent[] = []
    // started before any blob is there, as pull does
    const session = UnpackSession.start(store, {onEvent: (e) => events.push(e)})
    const l1 = await storeLayer(store, owned, 'gzip')
    const first = session.unpack(l1)
    const same = session.unpack(l1) // the same diff id twice: unpacked once
    const l2 = await storeLayer(store, [{name: 'etc', type: 'directory'}, {name: 'etc/.wh.shadow', type: 'file'}, {name: 'z', type: 'file', content: 'zstd'}], 'zstd')
    await Promise.all([first, same, session.unpack(l2)])
    await session.finish()

    const d1 = layerDir(store, l1.diffId)
    const tool = statSync(join(d1, 'home/app/tool'))
    expect(mapping.full).toBe(true) // the test user must have a subuid range
    expect(tool.uid).toBe(hostUid(1000))
    expect(tool.uid).toBe(mapping.uids[1]!.hostID + 999)
    expect(tool.gid).toBe(hostGid(1000))
    expect(tool.mode & 0o7777).toBe(0o4755)
    // user.* xattrs are set inside the namespace too (on a sub-uid-owned file, setuid kept)
    expect(execFileSync('getfattr', ['--only-values', '-n', 'user.origin', join(d1, 'home/app/tool')], {encoding: 'utf8'})).toBe('fixture')
    expect(lstatSync(join(d1, 'home/app/link')).uid).toBe(hostUid(1000))
    expect(statSync(join(d1, 'home/private'))).toMatchObject({uid: hostUid(1000), mode: 0o40700}) // not readable by the host user: only the namespace sees inside
    expect(statSync(join(d1, 'etc/shadow'))).toMatchObject({uid: process.getuid?.(), gid: hostGid(42)})
    const d2 = layerDir(store, l2.diffId)
    expect(readFileSync(join(d2, 'z'), 'utf8')).toBe('zstd')
    expect(statSync(join(d2, 'etc/.wh.shadow')).isFile()).toBe(true)
    expect(leftovers(store)).toEqual([])

    const kinds = events.map((e) => `${e.type} ${e.digest}`).sort()
    expect(kinds).toEqual([`unpacked ${l1.digest}`, `unpacked ${l2.digest}`, `unpacking ${l1.digest}`, `unpacking ${l2.digest}`].sort())

    // already there: nothing to do
    const again: LayerEvent[] = []
    await unpackLayers(store, [l1, l2], (e) => again.push(e))
    expect(again).toEqual([])
  })

  it('a diff_id mismatch is an IntegrityError and leaves nothing behind (even sub-uid-owned files)', async () => {
    const s = freshStore()
    const bad = await storeLayer(s, owned, 'gzip', `sha256:${'1'.repeat(64)}`)
    const err = await unpackLayers(s, [bad]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IntegrityError)
    expect((err as Error).message).toMatch(/expected diff_id sha256:1111/)
    expect(existsSync(layerDir(s, bad.diffId))).toBe(false)
    expect(leftovers(s)).toEqual([])
  })

  it('a hostile layer is a LayerError naming the entry; the good layer of the same batch is not kept half-done', async () => {
    const s = freshStore()
    const good = await storeLayer(s, owned, 'none')
    const evil = await storeLayer(s, [{name: 'x', type: 'symlink', linkname: base}, {name: 'x/pwned', type: 'file', content: 'evil'}], 'gzip')
    const err = await unpackLayers(s, [good, evil]).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LayerError)
    expect((err as Error).message).toMatch(/entry "x\/pwned": path component "x" is a symlink/)
    expect(existsSync(join(base, 'pwned'))).toBe(false)
    expect(existsSync(layerDir(s, evil.diffId))).toBe(false)
    expect(leftovers(s)).toEqual([])
  })

  it('two concurrent callers: one wins the rename, the other discards its copy', async () => {
    const s = freshStore()
    const l = await storeLayer(s, owned, 'gzip')
    await Promise.all([unpackLayers(s, [l]), unpackLayers(s, [l])])
    expect(statSync(join(layerDir(s, l.diffId), 'home/app/tool')).uid).toBe(hostUid(1000))
    expect(leftovers(s)).toEqual([])
  })

  it('a missing blob is reported before anything runs', async () => {
    const s = freshStore()
    const l = await storeLayer(s, owned, 'gzip')
    const ghost = {...l, digest: `sha256:${'2'.repeat(64)}`, diffId: `sha256:${'3'.repeat(64)}`}
    await expect(unpackLayers(s, [ghost])).rejects.toThrow(/layer blob sha256:2222.* is not in the store/)
    expect(leftovers(s)).toEqual([])
  })
})
