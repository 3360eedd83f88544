import {appendFileSync, mkdtempSync, renameSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {DownloadCancelled, GrowingBlob} from '../../src/layer/growing-blob.js'
import {parseStreamLine} from '../../src/layer/unpack-job.js'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'ctr-ts-growing-'))
})
afterEach(() => rmSync(dir, {recursive: true, force: true}))

async function readAll(g: GrowingBlob): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of g.stream()) chunks.push(c as Buffer)
  return Buffer.concat(chunks)
}

const tick = () => new Promise((r) => setTimeout(r, 5))

describe('GrowingBlob: a download read as it grows', () => {
  it('reads only what was announced, then the rest once complete, also after the rename into the store', async () => {
    const ingest = join(dir, 'x.part')
    const blob = join(dir, 'x')
    const g = new GrowingBlob('sha256:x', ingest, blob)
    writeFileSync(ingest, 'hello ')
    const reading = readAll(g)
    appendFileSync(ingest, 'world, not yet announced')
    g.grow(6)
    await tick()
    g.grow(11)
    await tick()
    renameSync(ingest, blob)
    g.finish(11)
    expect((await reading).toString()).toBe('hello world')
  })

  it('opens the blob when the ingest file was already renamed, and waits while neither exists', async () => {
    const ingest = join(dir, 'y.part')
    const blob = join(dir, 'y')
    const g = new GrowingBlob('sha256:y', ingest, blob)
    const reading = readAll(g)
    await tick()
    writeFileSync(blob, 'done')
    g.finish(4)
    expect((await reading).toString()).toBe('done')
  })

  it('a cancelled download fails the reader with DownloadCancelled, and settled() resolves', async () => {
    const ingest = join(dir, 'z.part')
    writeFileSync(ingest, 'abc')
    const g = new GrowingBlob('sha256:z', ingest, join(dir, 'z'))
    g.grow(3)
    const reading = readAll(g)
    await tick()
    g.cancel()
    await expect(reading).rejects.toBeInstanceOf(DownloadCancelled)
    await g.settled()
    expect(g.isCancelled).toBe(true)
  })

  it('a file shorter than announced is an error, never a short read taken as the end', async () => {
    const ingest = join(dir, 'w.part')
    writeFileSync(ingest, 'ab')
    const g = new GrowingBlob('sha256:w', ingest, join(dir, 'w'))
    g.grow(5)
    await expect(readAll(g)).rejects.toThrow(/ended at 2 bytes, 5 were announced/)
  })
})

describe('parseStreamLine: the news of a streamed layer', () => {
  it('parses grow, complete and cancel lines and a streamed layer; refuses malformed ones', () => {
    expect(parseStreamLine('{"grow":"sha256:a","bytes":10}')).toEqual({grow: 'sha256:a', bytes: 10})
    expect(parseStreamLine('{"complete":"sha256:a","size":10}')).toEqual({complete: 'sha256:a', size: 10})
    expect(parseStreamLine('{"cancel":"sha256:a"}')).toEqual({cancel: 'sha256:a'})
    expect(parseStreamLine('{"blob":"/b","ingest":"/i","mediaType":"m","diffId":"sha256:d","dest":"/d","digest":"sha256:a"}')).toMatchObject({ingest: '/i', digest: 'sha256:a'})
    expect(() => parseStreamLine('{"grow":"sha256:a","bytes":"10"}')).toThrow(/bad job/)
    expect(() => parseStreamLine('{"blob":"/b","ingest":"/i","mediaType":"m","diffId":"sha256:d","dest":"/d"}')).toThrow(/bad job/)
  })
})
