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
import {layerDir} from '../../src/store/layers.js'
import {imageRecordPath, listImages, readImageConfig, removeImage, resolveImage, writeImageRecord} from '../../src/store/images.js'
import {withStoreLock} from '../../src/store/lock.js'
import {createExclusive} from '../../src/store/exclusive-file.js'
import {acquireLease, createProcessLease, leasedImages, readLeases, releaseLease} from '../../src/store/leases.js'

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

  it('removes a reference; refuses an image a container leases unless forced; gc reclaims content, the lease keeps the layers', async () => {
    const store = newStore()
    const a = await addImage(store, 'docker.io/library/busybox:latest', 'a')
    await addImage(store, 'docker.io/library/other:latest', 'b')
    await acquireLease(store, 'container-c1', {image: a.id, holder: 'web', layers: a.layers.map((l) => l.diffId)})
    await expect(removeImage(store, 'busybox')).rejects.toThrow(/being used by container web/)
    await expect(removeImage(store, 'busybox')).rejects.toThrow(ConflictError)
    const res = await removeImage(store, 'busybox', {force: true})
    expect(res).toEqual({untagged: [a.ref], deleted: [a.id]})
    const gc = await garbageCollect(store)
    expect(gc.blobsRemoved.sort()).toEqual([a.id, a.manifestDigest, a.layers[0]!.digest].sort())
    expect(gc.layersRemoved).toEqual([])
    expect(existsSync(layerDir(store, a.layers[0]!.diffId))).toBe(true)
    expect(await hasBlob(store, a.id)).toBe(false)
    expect((await listImages(store)).map((r) => r.ref)).toEqual(['docker.io/library/other:latest'])
    await releaseLease(store, 'container-c1')
    expect((await garbageCollect(store)).layersRemoved).toEqual([a.layers[0]!.diffId])
    expect(existsSync(layerDir(store, a.layers[0]!.diffId))).toBe(false)
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
    const lease = await createProcessLease(store)
    await lease.add({content: [sha(orphan)]})
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

  it('never shows an empty lock, and breaks an empty one left by a process killed while creating it', async () => {
    const store = newStore()
    mkdirSync(store.locks, {recursive: true})
    // what open(O_EXCL) + write left when the process died between the two
    const empty = join(store.locks, 'gc.lock')
    writeFileSync(empty, '')
    const old = new Date(Date.now() - 10_000)
    utimesSync(empty, old, old)
    const seen: string[] = []
    expect(await withStoreLock(store, 'gc', async () => {
      seen.push(readFileSync(empty, 'utf8'))
      return 7
    }, 3000)).toBe(7)
    expect(seen[0]).toMatch(new RegExp(`^${process.pid} [0-9a-f]+$`))
    // no temporary file is left beside the lock, and the lock is gone
    expect(readdirSync(store.locks)).toEqual([])
  })

  it('waits for an empty lock that is being written (younger than the grace time)', async () => {
    const store = newStore()
    mkdirSync(store.locks, {recursive: true})
    const young = join(store.locks, 'gc.lock')
    writeFileSync(young, '')
    await expect(withStoreLock(store, 'gc', async () => 1, 300)).rejects.toThrow(/timed out waiting for the store lock/)
  })
})

describe('createExclusive', () => {
  it('fails with EEXIST when the file exists and leaves no temporary file', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-excl-'))
    const path = join(dir, 'name')
    await createExclusive(path, 'first')
    await expect(createExclusive(path, 'second')).rejects.toMatchObject({code: 'EEXIST'})
    expect(readFileSync(path, 'utf8')).toBe('first')
    expect(readdirSync(dir)).toEqual(['name'])
  })
})

describe('leases', () => {
  const diff = (seed: string) => sha(`diff ${seed}`)

  it('are taken, listed and released; the image a lease names is in use', async () => {
    const store = newStore()
    const a = await addImage(store, 'a/img:1', 'a')
    expect(await readLeases(store)).toEqual([])
    await acquireLease(store, 'container-x', {image: a.id, holder: 'web', layers: [diff('a'), diff('a')]})
    const [lease] = await readLeases(store)
    expect(lease).toMatchObject({id: 'container-x', image: a.id, holder: 'web', content: [], layers: [diff('a')]})
    expect(lease!.pid).toBeUndefined()
    expect(await leasedImages(store)).toEqual(new Map([[a.id, ['web']]]))
    // taking it again replaces it
    await acquireLease(store, 'container-x', {image: a.id, holder: 'web2', layers: []})
    expect((await readLeases(store)).map((l) => [l.holder, l.layers])).toEqual([['web2', []]])
    await releaseLease(store, 'container-x')
    await releaseLease(store, 'container-x') // twice is harmless
    expect(await readLeases(store)).toEqual([])
    expect(await leasedImages(store)).toEqual(new Map())
  })

  it('refuse ids that are not names and digests that are not digests', async () => {
    const store = newStore()
    await expect(acquireLease(store, '../x', {})).rejects.toThrow(UsageError)
    await expect(acquireLease(store, 'ok', {layers: ['sha256:../../etc']})).rejects.toThrow(UsageError)
    await expect(acquireLease(store, 'ok', {image: 'nope'})).rejects.toThrow(UsageError)
    expect(existsSync(store.leases) ? readdirSync(store.leases) : []).toEqual([])
  })

  it('gc keeps leased layers and blobs without any image record, and collects them once released', async () => {
    const store = newStore()
    const a = await addImage(store, 'a/img:1', 'a')
    const b = await addImage(store, 'b/img:1', 'b')
    await removeImage(store, a.ref)
    await removeImage(store, b.ref)
    await acquireLease(store, 'holder', {content: [a.layers[0]!.digest], layers: [diff('a')]})
    const gc = await garbageCollect(store)
    expect(gc.layersRemoved).toEqual([diff('b')])
    expect(gc.blobsRemoved).not.toContain(a.layers[0]!.digest)
    expect(await hasBlob(store, a.layers[0]!.digest)).toBe(true)
    expect(existsSync(layerDir(store, diff('a')))).toBe(true)
    await releaseLease(store, 'holder')
    const after = await garbageCollect(store)
    expect(after.layersRemoved).toEqual([diff('a')])
    expect(after.blobsRemoved).toEqual([a.layers[0]!.digest])
  })

  it('a process lease lasts as long as its process: a dead one is dropped and what it held collected', async () => {
    const store = newStore()
    const a = await addImage(store, 'a/img:1', 'a')
    await removeImage(store, a.ref)
    mkdirSync(store.leases, {recursive: true})
    // a pull killed after it leased: its pid is gone
    writeFileSync(join(store.leases, 'pull-999999999-abc.json'), JSON.stringify({id: 'pull-999999999-abc', pid: 999999999, created: '', content: [a.id], layers: [diff('a')]}))
    const live = await createProcessLease(store)
    await live.add({content: [a.manifestDigest]})
    expect((await readLeases(store)).map((l) => l.id)).toEqual([live.id])
    expect(readdirSync(store.leases)).toEqual([`${live.id}.json`])
    const gc = await garbageCollect(store)
    expect(gc.blobsRemoved.sort()).toEqual([a.id, a.layers[0]!.digest].sort())
    expect(gc.layersRemoved).toEqual([diff('a')])
    await live.release()
    expect(readdirSync(store.leases)).toEqual([])
  })

  it('a crash between steps leaves a consistent store: half-written leases are never read, a lease without its holder only keeps disk', async () => {
    const store = newStore()
    const a = await addImage(store, 'a/img:1', 'a')
    mkdirSync(store.leases, {recursive: true})
    // killed while writing a lease: the temp file of a dead writer is ignored and removed
    writeFileSync(join(store.leases, '.999999999.abcdef.tmp'), '{"id": "container-half", "lay')
    // killed after writing a lease file by hand-crafted garbage: ignored, never fatal
    writeFileSync(join(store.leases, 'garbage.json'), 'not json')
    // create killed after its lease, before its record: the layers stay (no loss), nothing else breaks
    await acquireLease(store, 'container-dead', {image: a.id, holder: 'c', layers: [diff('a')]})
    await removeImage(store, a.ref, {force: true})
    const gc = await garbageCollect(store)
    expect(gc.layersRemoved).toEqual([])
    expect(readdirSync(store.leases).sort()).toEqual(['container-dead.json', 'garbage.json'])
    expect((await readLeases(store)).map((l) => l.id)).toEqual(['container-dead'])
    // the lease is released (rm), and the next gc collects
    await releaseLease(store, 'container-dead')
    expect((await garbageCollect(store)).layersRemoved).toEqual([diff('a')])
  })

})
