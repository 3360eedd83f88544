import {pack} from 'tar-stream'
import {describe, expect, it} from 'vitest'
import {TarEndOfArchive} from '../../src/layer/tar-end.js'

/** A tar (tar-stream's pack): a PAX entry with an xattr, a directory, files of 0, 1, 512 and 1500 bytes, a symlink. */
async function archive(): Promise<Buffer> {
  const p = pack()
  const chunks: Buffer[] = []
  p.on('data', (c: unknown) => chunks.push(c as Buffer))
  const ended = new Promise<void>((resolve) => p.on('end', () => resolve()))
  const add = (header: Parameters<typeof p.entry>[0], body?: Buffer): Promise<void> =>
    new Promise((resolve, reject) => {
      const cb = (err?: Error | null): void => (err ? reject(err) : resolve())
      if (body) p.entry({...header, size: body.length}, body, cb)
      else p.entry(header, cb)
    })
  await add({name: 'dir', type: 'directory'})
  await add({name: 'dir/x', pax: {'SCHILY.xattr.user.k': 'v'}}, Buffer.from('pax'))
  await add({name: 'empty'}, Buffer.alloc(0))
  await add({name: 'one'}, Buffer.from('1'))
  await add({name: 'block'}, Buffer.alloc(512, 7))
  await add({name: 'big'}, Buffer.alloc(1500, 9))
  await add({name: 'link', type: 'symlink', linkname: 'one'})
  p.finalize()
  await ended
  return Buffer.concat(chunks)
}

/** Runs `input` through the guard in chunks of `size` bytes; what it passes on, and the guard. */
async function guard(input: Buffer, size: number): Promise<{out: Buffer; g: TarEndOfArchive; metered: number}> {
  let metered = 0
  const g = new TarEndOfArchive('test', (chunk) => {
    metered += chunk.length
  })
  const out: Buffer[] = []
  g.on('data', (c: Buffer) => out.push(c))
  const done = new Promise<void>((resolve, reject) => {
    g.on('end', () => resolve())
    g.on('error', reject)
  })
  for (let i = 0; i < input.length; i += size) g.write(input.subarray(i, i + size))
  g.end()
  await done
  return {out: Buffer.concat(out), g, metered}
}

describe('TarEndOfArchive', () => {
  it('passes every header and data byte before the end marker on, whatever the chunk sizes', async () => {
    const tar = await archive()
    // tar-stream's pack ends with the two zero blocks of the marker (and pads to nothing more)
    const body = tar.subarray(0, tar.length - 1024)
    expect(tar.subarray(tar.length - 1024).every((b) => b === 0)).toBe(true)
    const trailing = Buffer.concat([tar, Buffer.from('after the end')])
    const reference = await guard(trailing, trailing.length)
    expect(reference.g.entryOffsets).toHaveLength(7)
    for (const size of [1, 7, 100, 511, 512, 513, 1024, 1500, 4096, trailing.length]) {
      const {out, g, metered} = await guard(trailing, size)
      expect(out.equals(body), `chunks of ${size}`).toBe(true)
      expect(g.entryOffsets).toEqual(reference.g.entryOffsets)
      expect(g.ended).toBe(true)
      expect(g.trailingBytes).toBe(13)
      expect(g.trailingData).toBe(true)
      expect(metered).toBe(trailing.length)
      expect(g.takeRawXattrs(1)?.get('user.k')?.toString()).toBe('v')
    }
  })

  it('keeps entries after the end marker from the parser', async () => {
    const tar = await archive()
    const hidden = Buffer.concat([tar, tar])
    for (const size of [1, 513, hidden.length]) {
      const {out, g} = await guard(hidden, size)
      expect(out.equals(tar.subarray(0, tar.length - 1024))).toBe(true)
      expect(g.entryOffsets).toHaveLength(7)
      expect(g.trailingBytes).toBe(tar.length)
    }
  })

  it('refuses a header after a single zero block', async () => {
    const tar = await archive()
    // a zero block after the directory's header (a directory has no data), then dir/x's PAX header
    const bad = Buffer.concat([tar.subarray(0, 512), Buffer.alloc(512), tar.subarray(512)])
    for (const size of [1, 512, bad.length]) {
      await expect(guard(bad, size)).rejects.toThrow(/a header follows a single zero block at offset 512/)
    }
  })

  it('fails the stream with what the meter throws', async () => {
    const g = new TarEndOfArchive('test', () => {
      throw new Error('too big')
    })
    const failed = new Promise<Error>((resolve) => g.on('error', resolve))
    g.write(Buffer.alloc(512))
    expect((await failed).message).toBe('too big')
  })
})
