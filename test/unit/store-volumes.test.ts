import {existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ConflictError, NotFoundError, UsageError} from '../../src/errors.js'
import {storeLayout} from '../../src/paths.js'
import {
  ANONYMOUS_LABEL,
  createVolume,
  getVolume,
  listVolumes,
  markVolumePopulated,
  releaseVolumes,
  removeVolume,
  staleVolumeTemps,
  useVolume,
  volumeDataDir,
  volumeIsEmpty,
  volumePopulated,
  volumeRefs,
} from '../../src/store/volumes.js'

const newStore = () => storeLayout(mkdtempSync(join(tmpdir(), 'ctr-vol-')))
const cid = (c: string) => c.repeat(64)

describe('store volumes', () => {
  it('creates a volume once, with its data directory; an existing name is returned as it is', async () => {
    const store = newStore()
    const first = await createVolume(store, {name: 'pgdata', labels: {team: 'db'}})
    expect(first.created).toBe(true)
    expect(first.volume).toMatchObject({name: 'pgdata', driver: 'local', labels: {team: 'db'}, options: {}})
    expect(first.volume.createdAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(existsSync(volumeDataDir(store, 'pgdata'))).toBe(true)
    const again = await createVolume(store, {name: 'pgdata'})
    expect(again).toEqual({volume: first.volume, created: false})
    await expect(createVolume(store, {name: 'pgdata', options: {type: 'tmpfs'}})).rejects.toThrow(ConflictError)
    // nothing half-made is left next to it
    expect(readdirSync(store.volumes)).toEqual(['pgdata'])
  })

  it('names anonymous volumes with 64 hex digits and labels them', async () => {
    const store = newStore()
    const {volume} = await createVolume(store, {})
    expect(volume.name).toMatch(/^[0-9a-f]{64}$/)
    expect(volume.labels).toEqual({[ANONYMOUS_LABEL]: ''})
  })

  it('refuses names docker refuses, and never builds a path from them', async () => {
    const store = newStore()
    for (const bad of ['a', '../x', 'a/b', '.hidden', '-x', 'a b', '']) {
      await expect(createVolume(store, {name: bad}), bad).rejects.toThrow(UsageError)
    }
    await expect(getVolume(store, '../x')).rejects.toThrow(NotFoundError)
  })

  it('records users; a volume in use is not removed; refs of containers that are gone do not count', async () => {
    const store = newStore()
    await useVolume(store, {name: 'shared'}, cid('a'))
    await useVolume(store, {name: 'shared'}, cid('b'))
    expect(await volumeRefs(store, 'shared')).toEqual([cid('a'), cid('b')])
    await expect(useVolume(store, {name: 'missing'}, cid('a'), {mustExist: true})).rejects.toThrow(NotFoundError)

    const alive = new Set([cid('a'), cid('b')])
    await expect(removeVolume(store, 'shared', (id) => alive.has(id))).rejects.toThrow(`remove shared: volume is in use - [${cid('a')}, ${cid('b')}]`)
    await releaseVolumes(store, ['shared'], cid('a'))
    alive.delete(cid('b')) // removed without releasing (a killed --rm): its ref no longer counts
    await removeVolume(store, 'shared', (id) => alive.has(id))
    expect(await listVolumes(store)).toEqual([])
    await expect(removeVolume(store, 'shared', () => false)).rejects.toThrow(NotFoundError)
    expect(readdirSync(store.volumes)).toEqual([])
  })

  it('lists volumes by name; knows empty and populated volumes; finds leftovers', async () => {
    const store = newStore()
    for (const n of ['zz', 'aa', 'mm']) await createVolume(store, {name: n})
    expect((await listVolumes(store)).map((v) => v.name)).toEqual(['aa', 'mm', 'zz'])
    expect(await volumeIsEmpty(store, 'aa')).toBe(true)
    writeFileSync(join(volumeDataDir(store, 'aa'), 'f'), 'x')
    expect(await volumeIsEmpty(store, 'aa')).toBe(false)
    expect(volumePopulated(store, 'mm')).toBe(false)
    await markVolumePopulated(store, 'mm')
    expect(volumePopulated(store, 'mm')).toBe(true)

    mkdirSync(join(store.volumes, '.tmp-999999999-abc'))
    mkdirSync(join(store.volumes, `.tmp-${process.pid}-def`))
    mkdirSync(join(store.volumes, '.rm-12345678'))
    expect((await staleVolumeTemps(store)).map((p) => p.slice(store.volumes.length + 1)).sort()).toEqual(['.rm-12345678', '.tmp-999999999-abc'])
  })
})
