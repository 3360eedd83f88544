import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ConflictError, IntegrityError, NotFoundError, UsageError} from '../../src/errors.js'
import type {ImageRecord} from '../../src/oci/types.js'
import {storeLayout} from '../../src/paths.js'
import {parseReference} from '../../src/reference/parse.js'
import {blobPath, cleanStaleIngest, hasBlob, Ingest, writeBlob} from '../../src/store/content.js'
import {garbageCollect} from '../../src/store/gc.js'
import {imageRecordPath, listImages, readImageConfig, removeImage, resolveImage, writeImageRecord} from '../../src/store/images.js'
import {createLease, withStoreLock} from '../../src/store/lock.js'

const sha = (b: Buffer | string) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const newStore = () => storeLayout(mkdtempSync(join(tmpdir(), 'ctr-store-')))

async function addImage(store: ReturnType<typeof storeLayout>, ref: string, seed: string): Promise<ImageRecord> {
  const layer = Buffer.from(`layer ${seed}`)
  const config = Buffer.from(JSON.stringify({architecture: 'amd64', os: 'linux', rootfs: {type: 'layers', diff_ids: [sha(`diff ${seed}`)]}}))
  const manifest = Buffer.from(`manifest ${seed}`)
  for (const b of [layer, config, manifest]) await writeBlob(store, sha(b), b)
  mkdirSync(join(store.layers, sha(`diff ${seed}`).slice(7)), {recursive: true})
  const record: ImageRecord = {
    ref: parseReference(ref).toString(),
    id: sha(config),
    manifestDigest: sha(manifest),
    manifestMediaType: 'application/vnd.oci.image.manifest.v1+json',
    platform: {os: 'linux', architecture: 'amd64'},
    layers: [{digest: sha(layer), mediaType: 'application/vnd.oci.image.layer.v1.tar', size: layer.length, diffId: sha(`diff ${seed}`)}],
    size: layer.length,
    pulledAt: new Date().toISOString(),
  }
  await writeImageRecord(store, record)
  return record
}

describe('blobs', () => {
  it('become visible only after digest and size verification', async () => {
    const store = newStore()
    const data = Buffer.from('hello')
    const ing = await Ingest.create(store, sha(data), data.length)
    await ing.write(data)
    expect(await hasBlob(store, sha(data))).toBe(false)
    await ing.commit()
    expect(readFileSync(blobPath(store, sha(data)), 'utf8')).toBe('hello')
    expect(readdirSync(store.ingest)).toEqual([])
  })

  it('refuses wrong digests, short and long content, leaving nothing behind', async () => {
    const store = newStore()
    const wrong = await Ingest.create(store, sha('other'), 5)
    await wrong.write(Buffer.from('hello'))
    await expect(wrong.commit()).rejects.toThrow(IntegrityError)
    const short = await Ingest.create(store, sha('hello'), 6)
    await short.write(Buffer.from('hello'))
    await expect(short.commit()).rejects.toThrow(/got 5 bytes, expected 6/)
    const long = await Ingest.create(store, sha('hello'), 4)
    await expect(long.write(Buffer.from('hello'))).rejects.toThrow(/more than the 4 bytes/)
    await long.abort()
    expect(readdirSync(store.ingest)).toEqual([])
    expect(existsSync(store.blobs) ? readdirSync(store.blobs) : []).toEqual([])
  })

  it('cleans stale ingest files only', async () => {
    const store = newStore()
    mkdirSync(store.ingest, {recursive: true})
    writeFileSync(join(store.ingest, 'old.part'), 'x')
    writeFileSync(join(store.ingest, 'new.part'), 'x')
    const past = new Date(Date.now() - 2 * 3600_000)
    utimesSync(join(store.ingest, 'old.part'), past, past)
    expect(await cleanStaleIngest(store)).toBe(1)
    expect(readdirSync(store.ingest)).toEqual(['new.part'])
  })

  it('rejects malformed digests instead of building paths from them', () => {
    expect(() => blobPath(newStore(), 'sha256:../../etc/passwd')).toThrow(IntegrityError)
  })
})

describe('image records', () => {
  it('are listed, resolved by name, id, prefix and digest', async () => {
    const store = newStore()
    const a = await addImage(store, 'docker.io/library/busybox:latest', 'a')
    const b = await addImage(store, '127.0.0.1:5000/x/y:1', 'b')
    expect((await listImages(store)).length).toBe(2)
    expect(existsSync(imageRecordPath(store, a.ref))).toBe(true)
    expect((await resolveImage(store, 'busybox')).ref).toBe(a.ref)
    expect((await resolveImage(store, 'busybox:latest')).ref).toBe(a.ref)
    expect((await resolveImage(store, 'docker.io/library/busybox')).ref).toBe(a.ref)
    expect((await resolveImage(store, '127.0.0.1:5000/x/y:1')).ref).toBe(b.ref)
    expect((await resolveImage(store, a.id)).ref).toBe(a.ref)
    expect((await resolveImage(store, a.id.slice(7))).ref).toBe(a.ref)
    expect((await resolveImage(store, a.id.slice(7, 19))).ref).toBe(a.ref)
    expect((await resolveImage(store, a.manifestDigest)).ref).toBe(a.ref)
    expect((await resolveImage(store, `busybox@${a.manifestDigest}`)).ref).toBe(a.ref)
    expect((await readImageConfig(store, a)).os).toBe('linux')
    await expect(resolveImage(store, 'nope')).rejects.toThrow(NotFoundError)
    await expect(resolveImage(store, 'busybox:other')).rejects.toThrow(NotFoundError)
  })

  it('refuses an ambiguous id prefix', async () => {
    const store = newStore()
    // find two seeds whose ids share a first hex char
    const recs: ImageRecord[] = []
    for (let i = 0; recs.length < 2 && i < 200; i++) {
      const r = await addImage(store, `r${i}/img:latest`, `s${i}`)
      if (recs.length === 0 || r.id[7] === recs[0]!.id[7]) recs.push(r)
    }
    const prefix = recs[0]!.id.slice(7, 8).repeat(1)
    // a 1-char prefix is too short to be an id: it is treated as a name
    await expect(resolveImage(store, prefix)).rejects.toThrow(NotFoundError)
    const common = (() => {
      let n = 0
      while (recs[0]!.id[7 + n] === recs[1]!.id[7 + n]) n++
      return recs[0]!.id.slice(7, 7 + n)
    })()
    if (common.length >= 4) await expect(resolveImage(store, common)).rejects.toThrow(UsageError)
  })

  it('removes a reference; refuses an image a container uses unless forced; gc reclaims content', async () => {
    const store = newStore()
    const a = await addImage(store, 'docker.io/library/busybox:latest', 'a')
    await addImage(store, 'docker.io/library/other:latest', 'b')
    mkdirSync(join(store.containers, 'c1'), {recursive: true})
    writeFileSync(join(store.containers, 'c1', 'container.json'), JSON.stringify({id: 'c1', name: 'web', image: a.id}))
    await expect(removeImage(store, 'busybox')).rejects.toThrow(ConflictError)
    const res = await removeImage(store, 'busybox', {force: true})
    expect(res).toEqual({untagged: [a.ref], deleted: [a.id]})
    const gc = await garbageCollect(store)
    expect(gc.blobsRemoved.sort()).toEqual([a.id, a.manifestDigest, a.layers[0]!.digest].sort())
    expect(gc.layersRemoved).toEqual([a.layers[0]!.diffId])
    expect(await hasBlob(store, a.id)).toBe(false)
    expect((await listImages(store)).map((r) => r.ref)).toEqual(['docker.io/library/other:latest'])
  })

  it('keeps content shared with another reference and content leased by a running pull', async () => {
    const store = newStore()
    const a = await addImage(store, 'a/img:1', 'same')
    await addImage(store, 'a/img:2', 'same')
    await removeImage(store, 'a/img:1')
    await garbageCollect(store)
    expect(await hasBlob(store, a.id)).toBe(true)
    const orphan = Buffer.from('being pulled')
    await writeBlob(store, sha(orphan), orphan)
    const lease = await createLease(store)
    await lease.add([sha(orphan)])
    await garbageCollect(store)
    expect(await hasBlob(store, sha(orphan))).toBe(true)
    await lease.release()
    await garbageCollect(store)
    expect(await hasBlob(store, sha(orphan))).toBe(false)
  })

  it('removing by id with several references needs force', async () => {
    const store = newStore()
    const a = await addImage(store, 'a/img:1', 'same')
    await addImage(store, 'a/img:2', 'same')
    await expect(removeImage(store, a.id)).rejects.toThrow(ConflictError)
    expect((await removeImage(store, a.id, {force: true})).untagged.length).toBe(2)
  })
})

describe('store lock', () => {
  it('serializes holders and breaks a dead owner', async () => {
    const store = newStore()
    const order: string[] = []
    await Promise.all([
      withStoreLock(store, 't', async () => {
        order.push('a1')
        await new Promise((r) => setTimeout(r, 30))
        order.push('a2')
      }),
      withStoreLock(store, 't', async () => {
        order.push('b1')
        order.push('b2')
      }),
    ])
    expect([order.slice(0, 2), order.slice(2)].every((p) => p[0]![0] === p[1]![0])).toBe(true)
    mkdirSync(store.locks, {recursive: true})
    writeFileSync(join(store.locks, 'dead.lock'), '999999999 x')
    expect(await withStoreLock(store, 'dead', async () => 42, 2000)).toBe(42)
  })
})
