/**
 * Container records of ctr-ts 0.x (lower directories by path, no lease) read as today's form
 * (diff ids), and upgraded once: lease first, then the record rewritten atomically.
 */
import {createHash} from 'node:crypto'
import {mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {migrateContainerRecords} from '../../src/container/migrate.js'
import {containerLeaseId, listContainers, parseRecord} from '../../src/container/record.js'
import type {Context} from '../../src/context.js'
import {runLayout, storeLayout} from '../../src/paths.js'
import {acquireLease, readLeases} from '../../src/store/leases.js'
import {releaseOrphanLeases} from '../../src/container/orphan-leases.js'

const sha = (s: string) => createHash('sha256').update(s).digest('hex')

function context(): Context {
  const root = mkdtempSync(join(tmpdir(), 'ctr-rec-'))
  return {config: {} as Context['config'], configSources: [], store: storeLayout(root), run: runLayout(join(root, 'run'))}
}

/** A record as ctr-ts 0.x wrote it (src/container/create.ts before the store split). */
function oldRecord(ctx: Context, id: string, name: string, lowerDirs: string[]) {
  const rec = {id, name, image: `sha256:${sha('config')}`, imageRef: 'docker.io/library/busybox:latest', created: '2026-01-01T00:00:00.000Z', args: ['sh'], env: [], cwd: '/', user: '', hostname: id.slice(0, 12), tty: false, stdin: false, autoRemove: false, init: false, readOnly: false, runtime: 'runc', network: 'none', lowerDirs, stopSignal: 'SIGTERM', ports: [], labels: {}}
  mkdirSync(join(ctx.store.containers, id), {recursive: true})
  writeFileSync(join(ctx.store.containers, id, 'container.json'), JSON.stringify(rec, null, 2) + '\n')
  return rec
}

describe('container records of the previous version', () => {
  it('are read with diff ids, bottom layer first; an image without layers has none', () => {
    const ctx = context()
    const top = sha('top')
    const bottom = sha('bottom')
    const rec = parseRecord({id: 'c', name: 'n', image: `sha256:${sha('i')}`, lowerDirs: [`${ctx.store.layers}/${top}`, `/elsewhere/layers/${bottom}`]})
    expect(rec?.diffIds).toEqual([`sha256:${bottom}`, `sha256:${top}`])
    expect(rec && 'lowerDirs' in rec).toBe(false)
    expect(parseRecord({id: 'c', name: 'n', image: 'x', lowerDirs: [join(ctx.store.containers, 'c', 'empty')]})?.diffIds).toEqual([])
    expect(parseRecord({id: 'c', name: 'n', image: 'x', lowerDirs: ['/tmp/a', '/tmp/b']})).toBeUndefined()
    expect(parseRecord({id: 'c', name: 'n', image: 'x'})).toBeUndefined()
    expect(parseRecord({id: 'c', name: 'n', image: 'x', diffIds: []})?.diffIds).toEqual([])
  })

  it('are upgraded once: each gets a lease on its layers, then is rewritten without paths', async () => {
    const ctx = context()
    const a = 'a'.repeat(64)
    const b = 'b'.repeat(64)
    oldRecord(ctx, a, 'web', [`${ctx.store.layers}/${sha('l2')}`, `${ctx.store.layers}/${sha('l1')}`])
    oldRecord(ctx, b, 'empty', [join(ctx.store.containers, b, 'empty')])
    mkdirSync(join(ctx.store.containers, 'c'.repeat(64))) // being created: no record yet
    expect((await listContainers(ctx)).map((c) => c.diffIds.length).sort()).toEqual([0, 2])

    expect((await migrateContainerRecords(ctx)).sort()).toEqual([a, b])
    const leases = await readLeases(ctx.store)
    expect(leases.map((l) => [l.id, l.holder, l.layers]).sort()).toEqual(
      [
        [containerLeaseId(a), 'web', [`sha256:${sha('l1')}`, `sha256:${sha('l2')}`]],
        [containerLeaseId(b), 'empty', []],
      ].sort(),
    )
    const raw = JSON.parse(readFileSync(join(ctx.store.containers, a, 'container.json'), 'utf8'))
    expect(raw.lowerDirs).toBeUndefined()
    expect(raw.diffIds).toEqual([`sha256:${sha('l1')}`, `sha256:${sha('l2')}`])
    expect(raw.name).toBe('web')
    expect(readdirSync(join(ctx.store.containers, a))).toEqual(['container.json']) // no temp file left

    // running it again (killed before the store was marked) changes nothing
    expect(await migrateContainerRecords(ctx)).toEqual([])
    expect((await readLeases(ctx.store)).length).toBe(2)
  })
})

describe('orphan container leases', () => {
  it('are released when their container is gone; live ones and those of a create in progress stay', async () => {
    const ctx = context()
    const live = 'd'.repeat(64)
    oldRecord(ctx, live, 'live', [])
    await acquireLease(ctx.store, containerLeaseId(live), {layers: []})
    // a create in progress: its directory names its creator (this process), no record yet
    const creating = 'f'.repeat(64)
    mkdirSync(join(ctx.store.containers, creating), {recursive: true})
    writeFileSync(join(ctx.store.containers, creating, 'creating'), `${process.pid}\n`)
    await acquireLease(ctx.store, containerLeaseId(creating), {layers: []})
    await acquireLease(ctx.store, containerLeaseId('e'.repeat(64)), {layers: []}) // its container is gone
    await acquireLease(ctx.store, 'pull-like', {layers: []}) // not a container's
    expect((await releaseOrphanLeases(ctx)).sort()).toEqual([containerLeaseId('e'.repeat(64))])
    expect(await releaseOrphanLeases(ctx)).toEqual([])
    expect((await readLeases(ctx.store)).map((l) => l.id).sort()).toEqual([containerLeaseId(creating), containerLeaseId(live), 'pull-like'].sort())
  })
})
