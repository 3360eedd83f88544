import {createHash} from 'node:crypto'
import {execFileSync} from 'node:child_process'
import {chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {Readable} from 'node:stream'
import {gzipSync, zstdCompressSync} from 'node:zlib'
import {pack, type Header} from 'tar-stream'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {IntegrityError, LayerError} from '../../src/errors.js'
import {MediaType} from '../../src/oci/types.js'
import {unpackLayer, type UnpackOptions} from '../../src/layer/unpack.js'
import {UnpackThreads} from '../../src/layer/unpack-thread.js'

/**
 * test/e2e/unpack-thread.test.ts runs these tests again with the entries applied by the built
 * unpacker's worker thread (dist/layer/unpack-main.js), as `ctr-ts pull` does.
 */
const threadScript = process.env.CTR_TS_TEST_UNPACK_THREAD
const applier = threadScript ? {applier: new UnpackThreads(new URL(`file://${threadScript}`)).applier} : {}

type Entry = Partial<Header> & {name: string; data?: string | Buffer; pax?: Record<string, string>}

async function tarball(entries: Entry[]): Promise<Buffer> {
  const p = pack()
  const chunks: Buffer[] = []
  p.on('data', (c: Buffer) => chunks.push(c))
  const ended = new Promise<void>((resolve, reject) => {
    p.on('end', () => resolve())
    p.on('error', reject)
  })
  for (const {data, ...header} of entries) {
    const body = data === undefined ? undefined : Buffer.from(data)
    await new Promise<void>((resolve, reject) => {
      const cb = (err?: Error | null) => (err ? reject(err) : resolve())
      if (body) p.entry({...header, size: body.length}, body, cb)
      else p.entry(header, cb)
    })
  }
  p.finalize()
  await ended
  return Buffer.concat(chunks)
}

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`
const isRoot = process.getuid?.() === 0

let base: string
let dest: string
let sentinel: string
let warnings: string[]

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'ctr-ts-unpack-'))
  dest = join(base, 'dest')
  sentinel = join(base, 'sentinel')
  mkdirSync(dest)
  mkdirSync(sentinel)
  writeFileSync(join(sentinel, 'secret'), 'untouched')
  warnings = []
})

/** Layers may hold read-only directories: make them writable so a non-root user can remove them. */
function makeRemovable(dir: string) {
  for (const e of readdirSync(dir, {withFileTypes: true})) {
    if (!e.isDirectory()) continue
    const p = join(dir, e.name)
    chmodSync(p, 0o700)
    makeRemovable(p)
  }
}

afterEach(() => {
  if (existsSync(dest)) {
    chmodSync(dest, 0o700)
    makeRemovable(dest)
  }
  rmSync(base, {recursive: true, force: true})
  delete process.env.CTR_TS_MAX_LAYER_BYTES
})

function unpack(blob: Buffer, opts: Partial<UnpackOptions> = {}) {
  return unpackLayer(Readable.from([blob]), dest, {
    layerName: 'sha256:test',
    canChown: false,
    onWarning: (m) => warnings.push(m),
    ...applier,
    ...opts,
  })
}

/** Nothing outside dest changed: base holds only dest and sentinel, sentinel only its file. */
function expectNothingOutside() {
  expect(readdirSync(base).sort()).toEqual(['dest', 'sentinel'])
  expect(readdirSync(sentinel)).toEqual(['secret'])
  expect(readFileSync(join(sentinel, 'secret'), 'utf8')).toBe('untouched')
}

async function expectRefused(entries: Entry[], pattern: RegExp) {
  const blob = await tarball(entries)
  const err = await unpack(blob).catch((e: unknown) => e)
  expect(err).toBeInstanceOf(LayerError)
  expect((err as Error).message).toMatch(/^layer sha256:test: /)
  expect((err as Error).message).toMatch(pattern)
  expectNothingOutside()
}

const mtime = new Date('2020-01-02T03:04:05Z')

describe('unpackLayer: content', () => {
  it('regular files, dirs, symlinks, hardlinks, modes, mtimes; returns the diffId', async () => {
    const blob = await tarball([
      {name: 'etc/', type: 'directory', mode: 0o755, mtime},
      {name: 'etc/hostname', data: 'box\n', mode: 0o644, mtime},
      {name: 'bin/', type: 'directory', mode: 0o755, mtime},
      {name: 'bin/tool', data: '#!/bin/sh\n', mode: 0o4755, mtime},
      {name: 'bin/sgid', data: 'x', mode: 0o2711, mtime},
      {name: 'tmp/', type: 'directory', mode: 0o1777, mtime},
      {name: 'ro/', type: 'directory', mode: 0o555, mtime},
      {name: 'ro/inside', data: 'written before the dir became read-only', mode: 0o444, mtime},
      {name: 'rel', type: 'symlink', linkname: 'etc/hostname', mtime},
      {name: 'abs', type: 'symlink', linkname: '/etc/passwd', mtime},
      {name: 'dangling', type: 'symlink', linkname: '../../nowhere/at/all', mtime},
      {name: 'bin/alias', type: 'link', linkname: 'bin/tool'},
      {name: 'run/fifo', type: 'fifo', mode: 0o600, mtime},
    ])
    const result = await unpack(blob, {diffId: sha(blob)})
    expect(result).toEqual({diffId: sha(blob), entries: 13, bytes: blob.length})

    expect(readFileSync(join(dest, 'etc/hostname'), 'utf8')).toBe('box\n')
    expect(statSync(join(dest, 'bin/tool')).mode & 0o7777).toBe(0o4755)
    expect(statSync(join(dest, 'bin/sgid')).mode & 0o7777).toBe(0o2711)
    expect(statSync(join(dest, 'tmp')).mode & 0o7777).toBe(0o1777)
    expect(statSync(join(dest, 'ro')).mode & 0o7777).toBe(0o555)
    expect(statSync(join(dest, 'ro/inside')).mode & 0o7777).toBe(0o444)
    expect(statSync(join(dest, 'etc/hostname')).mtime.getTime()).toBe(mtime.getTime())
    expect(statSync(join(dest, 'etc')).mtime.getTime()).toBe(mtime.getTime()) // set after its entries
    expect(statSync(join(dest, 'ro')).mtime.getTime()).toBe(mtime.getTime())
    expect(readlinkSync(join(dest, 'rel'))).toBe('etc/hostname')
    expect(readlinkSync(join(dest, 'abs'))).toBe('/etc/passwd') // stored as-is, never resolved
    expect(readlinkSync(join(dest, 'dangling'))).toBe('../../nowhere/at/all')
    expect(lstatSync(join(dest, 'rel')).mtime.getTime()).toBe(mtime.getTime())
    expect(statSync(join(dest, 'bin/alias')).ino).toBe(statSync(join(dest, 'bin/tool')).ino)
    expect(lstatSync(join(dest, 'run/fifo')).isFIFO()).toBe(true)
    expect(statSync(join(dest, 'run')).mode & 0o777).toBe(0o755) // implicit parent
    expect(statSync(dest).mode & 0o777).toBe(0o755) // layer root without a ./ entry
    expect(warnings).toEqual([])
  })

  it('long names (PAX and GNU) and PAX uid/gid/mtime', async () => {
    const long = `${'d'.repeat(120)}/${'e'.repeat(150)}/${'f'.repeat(200)}`
    const blob = await tarball([
      {name: long, data: 'deep'},
      {name: 'long-link', type: 'symlink', linkname: 'x'.repeat(300)},
      {name: 'p', data: 'pax', pax: {mtime: '1600000000.5'}},
    ])
    await unpack(blob)
    expect(readFileSync(join(dest, long), 'utf8')).toBe('deep')
    expect(readlinkSync(join(dest, 'long-link'))).toBe('x'.repeat(300))
    expect(statSync(join(dest, 'p')).mtime.getTime()).toBe(1600000000500)
  })

  it('gzip, zstd and plain tar give the same diffId (of the uncompressed tar)', async () => {
    const tar = await tarball([{name: 'f', data: 'hello'}])
    for (const [mediaType, blob] of [
      [MediaType.OciLayer, tar],
      [MediaType.OciLayerGzip, gzipSync(tar)],
      [MediaType.DockerLayerGzip, gzipSync(tar)],
      [MediaType.OciLayerZstd, zstdCompressSync(tar)],
    ] as const) {
      rmSync(dest, {recursive: true})
      mkdirSync(dest)
      const r = await unpack(blob, {mediaType, diffId: sha(tar)})
      expect(r.diffId).toBe(sha(tar))
      expect(readFileSync(join(dest, 'f'), 'utf8')).toBe('hello')
    }
  })

  it('a diffId mismatch is an IntegrityError', async () => {
    const tar = await tarball([{name: 'f', data: 'hello'}])
    const err = await unpack(tar, {diffId: `sha256:${'0'.repeat(64)}`}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(IntegrityError)
    expect((err as Error).message).toMatch(/expected diff_id sha256:0000/)
  })

  it('a lying media type is a LayerError', async () => {
    const tar = await tarball([{name: 'f', data: 'hello'}])
    await expect(unpack(tar, {mediaType: MediaType.OciLayerGzip})).rejects.toThrow(/media type says gzip but the content is not compressed/)
    await expect(unpack(gzipSync(tar), {mediaType: MediaType.OciLayer})).rejects.toThrow(/uncompressed tar but the content is gzip-compressed/)
    await expect(unpack(gzipSync(tar), {mediaType: MediaType.OciLayerZstd})).rejects.toThrow(LayerError)
    await expect(unpack(Buffer.concat([gzipSync(tar).subarray(0, 30), Buffer.alloc(100, 7)]), {mediaType: MediaType.OciLayerGzip})).rejects.toThrow(/corrupt compressed data/)
    await expect(unpack(Buffer.alloc(1024, 0x41))).rejects.toThrow(/corrupt tar/)
  })

  it('later entries replace earlier ones; a dir over a dir merges', async () => {
    const blob = await tarball([
      {name: 'x', data: 'file'},
      {name: 'x/', type: 'directory', mode: 0o700},
      {name: 'x/a', data: 'a'},
      {name: 'x/', type: 'directory', mode: 0o750, mtime},
      {name: 'x/b', data: 'b'},
      {name: 'y/', type: 'directory'},
      {name: 'y/inner', data: 'gone'},
      {name: 'y', type: 'symlink', linkname: 'x'},
      {name: 'z', data: 'first'},
      {name: 'z', data: 'second'},
    ])
    await unpack(blob)
    expect(readdirSync(join(dest, 'x')).sort()).toEqual(['a', 'b'])
    expect(statSync(join(dest, 'x')).mode & 0o777).toBe(0o750)
    expect(readlinkSync(join(dest, 'y'))).toBe('x')
    expect(readFileSync(join(dest, 'z'), 'utf8')).toBe('second')
  })

  it('whiteouts are kept as .wh. files; same-layer replacement becomes opaque', async () => {
    const blob = await tarball([
      {name: 'etc/.wh.motd', data: ''},
      {name: 'var/cache/.wh..wh..opq', data: ''},
      {name: '.wh..wh.plnk/', type: 'directory'},
      {name: 'opt/.wh.app', data: ''},
      {name: 'opt/app/', type: 'directory'},
      {name: 'opt/app/new', data: 'n'},
      {name: 'srv/old', data: 'o'},
      {name: 'srv/.wh.old', data: ''},
      {name: 'ovl', type: 'character-device', devmajor: 0, devminor: 0},
    ])
    await unpack(blob)
    expect(statSync(join(dest, 'etc/.wh.motd')).isFile()).toBe(true)
    expect(statSync(join(dest, 'var/cache/.wh..wh..opq')).isFile()).toBe(true)
    expect(existsSync(join(dest, '.wh..wh.plnk'))).toBe(false)
    expect(readdirSync(join(dest, 'opt')).sort()).toEqual(['app'])
    expect(readdirSync(join(dest, 'opt/app')).sort()).toEqual(['.wh..wh..opq', 'new'])
    expect(readdirSync(join(dest, 'srv'))).toEqual(['.wh.old'])
    expect(statSync(join(dest, '.wh.ovl')).isFile()).toBe(true)
  })

  it('device nodes are skipped with one warning', async () => {
    const blob = await tarball([
      {name: 'dev/null', type: 'character-device', devmajor: 1, devminor: 3},
      {name: 'dev/sda', type: 'block-device', devmajor: 8, devminor: 0},
      {name: 'ok', data: 'fine'},
    ])
    const r = await unpack(blob)
    expect(r.entries).toBe(3)
    expect(existsSync(join(dest, 'dev/null'))).toBe(false)
    expect(existsSync(join(dest, 'dev/sda'))).toBe(false)
    expect(readFileSync(join(dest, 'ok'), 'utf8')).toBe('fine')
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/skipped 2 device nodes .*\/dev\/null, \/dev\/sda/)
  })

  it('keeps owners when it can chown, setuid surviving chown; warns once when an id is unmapped', async () => {
    const blob = await tarball([
      {name: 'd/', type: 'directory', uid: 1000, gid: 1001, mode: 0o755},
      {name: 'd/f', data: 'x', uid: 1000, gid: 1001, mode: 0o4755},
      {name: 'd/l', type: 'symlink', linkname: 'f', uid: 1002, gid: 1003},
    ])
    await unpack(blob, {canChown: true})
    expect(statSync(join(dest, 'd/f')).mode & 0o7777).toBe(0o4755)
    if (isRoot) {
      // root can give any id, as the user-namespace root can for mapped ids
      expect(statSync(join(dest, 'd'))).toMatchObject({uid: 1000, gid: 1001})
      expect(statSync(join(dest, 'd/f'))).toMatchObject({uid: 1000, gid: 1001})
      expect(lstatSync(join(dest, 'd/l'))).toMatchObject({uid: 1002, gid: 1003})
      expect(warnings).toEqual([])
    } else {
      // an ordinary user cannot: EPERM, like an id outside the namespace's mapping
      expect(statSync(join(dest, 'd/f')).uid).toBe(process.getuid?.())
      expect(warnings).toHaveLength(1)
      expect(warnings[0]).toMatch(/cannot keep owner 1000:1001/)
    }
  })
})

describe('unpackLayer: safety', () => {
  it('refuses ../x', () => expectRefused([{name: '../x', data: 'evil'}], /entry "\.\.\/x": name "\.\.\/x" escapes the layer root/))
  it('refuses a/../../x', () => expectRefused([{name: 'a/../../x', data: 'evil'}], /entry "a\/\.\.\/\.\.\/x": .*escapes/))
  it('refuses /../sentinel/secret', () => expectRefused([{name: '/../sentinel/secret', data: 'evil'}], /escapes/))

  it('strips a leading / (docker does)', async () => {
    await unpack(await tarball([{name: '/etc/x', data: 'ok'}]))
    expect(readFileSync(join(dest, 'etc/x'), 'utf8')).toBe('ok')
    expectNothingOutside()
  })

  it('refuses writing through an absolute symlink', () =>
    expectRefused(
      [
        {name: 'a', type: 'symlink', linkname: sentinel},
        {name: 'a/secret', data: 'evil'},
      ],
      /entry "a\/secret": path component "a" is a symlink/,
    ))

  it('refuses writing through a relative symlink', () =>
    expectRefused(
      [
        {name: 'a', type: 'symlink', linkname: '../sentinel'},
        {name: 'a/pwned', data: 'evil'},
      ],
      /entry "a\/pwned": path component "a" is a symlink/,
    ))

  it('refuses a directory through a symlink (a -> ../../..)', () =>
    expectRefused(
      [
        {name: 'a', type: 'symlink', linkname: '../../..'},
        {name: 'a/b/c/', type: 'directory'},
      ],
      /path component "a" is a symlink/,
    ))

  it('refuses a hardlink to ../../etc/passwd', () =>
    expectRefused([{name: 'h', type: 'link', linkname: '../../etc/passwd'}], /entry "h": hardlink target .* escapes the layer root/))

  it('refuses a hardlink through a symlink', () =>
    expectRefused(
      [
        {name: 's', type: 'symlink', linkname: sentinel},
        {name: 'h', type: 'link', linkname: 's/secret'},
      ],
      /entry "h": path component "s" is a symlink/,
    ))

  it('refuses a hardlink to something not (yet) in the layer', () =>
    expectRefused(
      [
        {name: 'h', type: 'link', linkname: 'later'},
        {name: 'later', data: 'x'},
      ],
      /hardlink target "later" is not an earlier entry of this layer/,
    ))

  it('refuses a whiteout ../.wh.x', () => expectRefused([{name: '../.wh.sentinel', data: ''}], /entry "\.\.\/\.wh\.sentinel": .*escapes/))

  it('refuses a whiteout through a symlink', () =>
    expectRefused(
      [
        {name: 's', type: 'symlink', linkname: '../sentinel'},
        {name: 's/.wh.secret', data: ''},
      ],
      /path component "s" is a symlink/,
    ))

  it('refuses an opaque marker through a symlink', () =>
    expectRefused(
      [
        {name: 's', type: 'symlink', linkname: sentinel},
        {name: 's/.wh..wh..opq', data: ''},
      ],
      /entry "s\/\.wh\.\.wh\.\.opq": path component "s" is a symlink/,
    ))

  it('refuses a hardlink to the layer root or a directory', async () => {
    await expectRefused([{name: 'h', type: 'link', linkname: './'}], /hardlink to the layer root/)
    await expectRefused([{name: 'd/', type: 'directory'}, {name: 'h', type: 'link', linkname: 'd'}], /hardlink target "d" is a directory/)
  })

  it('refuses a whiteout naming nothing', () => expectRefused([{name: 'd/.wh..', data: ''}], /names no file/))

  it('replaces (does not follow) a symlink at the final component', async () => {
    await unpack(
      await tarball([
        {name: 'a', type: 'symlink', linkname: join(sentinel, 'secret')},
        {name: 'a', data: 'replaced'},
      ]),
    )
    expect(lstatSync(join(dest, 'a')).isFile()).toBe(true)
    expectNothingOutside()
  })

  it('bounds a huge PAX header', async () => {
    await expectRefused([{name: 'f', data: 'x', pax: {comment: 'y'.repeat(5 * 1024 * 1024)}}], /PAX or GNU long-name header exceeds 4 MiB/)
  })

  it('refuses a huge name', async () => {
    await expectRefused([{name: `${'n/'.repeat(3000)}f`, data: 'x'}], /name is longer than 4096 bytes/)
  })

  it('refuses a decompression bomb over CTR_TS_MAX_LAYER_BYTES, with bounded writes', async () => {
    process.env.CTR_TS_MAX_LAYER_BYTES = String(1024 * 1024)
    const tar = await tarball([{name: 'zeros', data: Buffer.alloc(32 * 1024 * 1024)}])
    const bomb = gzipSync(tar)
    expect(bomb.length).toBeLessThan(100 * 1024)
    const err = await unpack(bomb, {mediaType: MediaType.OciLayerGzip}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LayerError)
    expect((err as Error).message).toMatch(/uncompressed size exceeds the limit of 1048576 bytes/)
    const written = existsSync(join(dest, 'zeros')) ? statSync(join(dest, 'zeros')).size : 0
    expect(written).toBeLessThanOrEqual(1024 * 1024)
    expectNothingOutside()
  })

  it('refuses more entries than the limit', async () => {
    const blob = await tarball([{name: 'a', data: ''}, {name: 'b', data: ''}, {name: 'c', data: ''}])
    await expect(unpack(blob, {limits: {maxEntries: 2}})).rejects.toThrow(/more than 2 entries/)
  })

  it('refuses a truncated tar', async () => {
    const tar = await tarball([{name: 'f', data: Buffer.alloc(4096, 1)}])
    await expect(unpack(tar.subarray(0, 1500))).rejects.toThrow(/corrupt tar: Unexpected end of data/)
  })
})

describe('unpackLayer: end of archive (issue 17 item 3)', () => {
  it('stops at the end-of-archive marker: entries after it are never extracted, the diffId covers the whole blob', async () => {
    const first = await tarball([{name: 'kept', data: 'yes'}])
    expect(first.subarray(-1024).every((b) => b === 0)).toBe(true)
    const hidden = await tarball([{name: 'hidden', data: 'smuggled'}, {name: 'kept', data: 'overwritten'}])
    const blob = Buffer.concat([first, hidden])
    const r = await unpack(blob, {diffId: sha(blob)})
    expect(r.diffId).toBe(sha(blob))
    expect(r.entries).toBe(1)
    expect(readdirSync(dest)).toEqual(['kept'])
    expect(readFileSync(join(dest, 'kept'), 'utf8')).toBe('yes')
    expect(warnings).toEqual([`layer sha256:test: ignored ${hidden.length} bytes after the tar end-of-archive marker`])
    // The diff_id of the archive alone (without what follows) does not match what was served.
    await expect(unpack(blob, {diffId: sha(first)})).rejects.toThrow(IntegrityError)
  })

  it('also when the trailing entries are gzip-compressed with the rest', async () => {
    const blob = Buffer.concat([await tarball([{name: 'kept', data: 'yes'}]), await tarball([{name: 'hidden', data: 'x'}])])
    const r = await unpack(gzipSync(blob), {mediaType: MediaType.OciLayerGzip, diffId: sha(blob)})
    expect(r.entries).toBe(1)
    expect(existsSync(join(dest, 'hidden'))).toBe(false)
  })

  it('accepts zero padding after the marker (GNU tar pads to 10 KiB records) without a warning', async () => {
    const tar = await tarball([{name: 'a', data: 'x'.repeat(700)}, {name: 'd/', type: 'directory'}, {name: 'd/b', data: 'y'}])
    const padded = Buffer.concat([tar, Buffer.alloc(10240 - (tar.length % 10240))])
    const r = await unpack(padded, {diffId: sha(padded)})
    expect(r.entries).toBe(3)
    expect(warnings).toEqual([])
    expect(readFileSync(join(dest, 'd', 'b'), 'utf8')).toBe('y')
  })

  it('accepts an archive without a marker, or with a single zero block at its end', async () => {
    const tar = await tarball([{name: 'a', data: 'x'}])
    expect((await unpack(tar.subarray(0, tar.length - 1024))).entries).toBe(1)
    rmSync(join(dest, 'a'))
    expect((await unpack(tar.subarray(0, tar.length - 512))).entries).toBe(1)
  })

  it('refuses a header after a single zero block, like Go', async () => {
    const a = await tarball([{name: 'a', data: 'x'}])
    const b = await tarball([{name: 'b', data: 'y'}])
    const blob = Buffer.concat([a.subarray(0, a.length - 512), b])
    const err = await unpack(blob).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(LayerError)
    expect((err as Error).message).toMatch(/^layer sha256:test: corrupt tar: a header follows a single zero block at offset 1024$/)
    expect(existsSync(join(dest, 'b'))).toBe(false)
  })

  it('follows PAX and GNU long headers and base-256 sizes to find the marker', async () => {
    const long = `${'d'.repeat(150)}/${'f'.repeat(120)}`
    const tar = await tarball([
      {name: long, data: 'long'},
      {name: 'p', data: 'z'.repeat(1500), pax: {comment: 'c'.repeat(3000)}},
      {name: 'l', type: 'symlink', linkname: 'x'.repeat(300)},
    ])
    const b256 = await tarball([{name: 'big', data: 'q'.repeat(600)}])
    b256.fill(0, 124, 136)
    b256[124] = 0x80
    b256.writeUInt16BE(600, 134) // base-256 size, as tar writes sizes over 8 GiB
    let sum = 8 * 32
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += b256[i]!
    b256.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
    const blob = Buffer.concat([tar.subarray(0, tar.length - 1024), b256, await tarball([{name: 'hidden', data: 'x'}])])
    const r = await unpack(blob)
    expect(r.entries).toBe(4)
    expect(readFileSync(join(dest, 'big'), 'utf8')).toBe('q'.repeat(600))
    expect(existsSync(join(dest, 'hidden'))).toBe(false)
    expect(readFileSync(join(dest, 'p'), 'utf8')).toBe('z'.repeat(1500))
  })
})

describe('unpackLayer: formats refused', () => {
  it('refuses PAX sparse files rather than writing a wrong file', async () => {
    const blob = await tarball([{name: 'sparse', data: 'map+data', pax: {'GNU.sparse.major': '1', 'GNU.sparse.minor': '0', 'GNU.sparse.realsize': '1000000'}}])
    await expect(unpack(blob)).rejects.toThrow(/entry "sparse": GNU sparse files are not supported/)
  })

  it('skips unknown entry types with a warning', async () => {
    const tar = await tarball([{name: 'odd', data: 'abc'}, {name: 'ok', data: 'fine'}])
    tar[156] = 'V'.charCodeAt(0) // a volume header type tar-stream does not know
    let sum = 8 * 32 // recompute the header checksum
    for (let i = 0; i < 512; i++) if (i < 148 || i >= 156) sum += tar[i]!
    tar.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1')
    const r = await unpack(tar)
    expect(r.entries).toBe(2)
    expect(existsSync(join(dest, 'odd'))).toBe(false)
    expect(readFileSync(join(dest, 'ok'), 'utf8')).toBe('fine')
    expect(warnings).toEqual([expect.stringMatching(/entry "odd" of unsupported tar type skipped/)])
  })
})

/** The user.* xattrs of a path, as getfattr prints them (name → text value). */
function userXattrs(path: string): Record<string, string> {
  const out = execFileSync('getfattr', ['-h', '-d', '--absolute-names', '-e', 'text', '--', path], {encoding: 'utf8'})
  const attrs: Record<string, string> = {}
  for (const line of out.split('\n')) {
    const m = /^([^#=][^=]*)="(.*)"$/.exec(line)
    if (m) attrs[m[1]!] = m[2]!
  }
  return attrs
}

describe('unpackLayer: extended attributes', () => {
  it('restores user.* xattrs of files and directories (SCHILY and LIBARCHIVE forms)', async () => {
    const blob = await tarball([
      {name: 'd', type: 'directory', mode: 0o755, pax: {'SCHILY.xattr.user.dir': 'on a dir'}},
      {name: 'd/f', data: 'x', mode: 0o644, pax: {'SCHILY.xattr.user.mime_type': 'text/plain', 'SCHILY.xattr.user.two': 'b'}},
      {name: 'odd name=\\x', data: 'y', pax: {[`LIBARCHIVE.xattr.${encodeURIComponent('user.from bsdtar')}`]: Buffer.from('bsd').toString('base64')}},
    ])
    await unpack(blob)
    expect(userXattrs(join(dest, 'd'))).toEqual({'user.dir': 'on a dir'})
    expect(userXattrs(join(dest, 'd', 'f'))).toEqual({'user.mime_type': 'text/plain', 'user.two': 'b'})
    expect(userXattrs(join(dest, 'odd name=\\x'))).toEqual({'user.from bsdtar': 'bsd'})
    expect(warnings).toEqual([])
  })

  it('skips other namespaces and the overlay drivers\' own names, with one warning', async () => {
    const blob = await tarball([
      {
        name: 'f',
        data: 'x',
        pax: {
          'SCHILY.xattr.security.capability': 'cap',
          'SCHILY.xattr.trusted.overlay.opaque': 'y',
          'SCHILY.xattr.user.fuseoverlayfs.override_stat': '0:0:04755',
          'SCHILY.xattr.user.overlay.opaque': 'y',
          'SCHILY.xattr.user.ok': 'kept',
        },
      },
    ])
    await unpack(blob)
    expect(userXattrs(join(dest, 'f'))).toEqual({'user.ok': 'kept'})
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/extended attributes not restored: security\.capability \(not in the user\. namespace\), trusted\.overlay\.opaque .*, user\.fuseoverlayfs\.override_stat \(reserved for the overlay driver\), \.\.\./)
  })

  it('a replaced entry loses its xattrs; a later symlink in the path is never followed', async () => {
    const blob = await tarball([
      {name: 'f', data: 'old', pax: {'SCHILY.xattr.user.old': '1'}},
      {name: 'f', data: 'new'},
      {name: 'd', type: 'directory', mode: 0o755},
      {name: 'd/g', data: 'x', pax: {'SCHILY.xattr.user.evil': '1'}},
      {name: 'd', type: 'symlink', linkname: '../sentinel'},
    ])
    await unpack(blob)
    expect(userXattrs(join(dest, 'f'))).toEqual({})
    expect(userXattrs(join(sentinel, 'secret'))).toEqual({})
    expectNothingOutside()
  })
})

/** Replaces the first occurrence of `placeholder` in `blob` with `bytes` of the same length. */
function patchBytes(blob: Buffer, placeholder: string, bytes: Buffer): Buffer {
  const at = blob.indexOf(Buffer.from(placeholder))
  expect(at).toBeGreaterThan(0)
  expect(bytes.length).toBe(Buffer.byteLength(placeholder))
  const out = Buffer.from(blob)
  bytes.copy(out, at)
  return out
}

describe('unpackLayer: exact as podman (issue 16 bug 5)', () => {
  it('keeps binary user.* xattr values byte for byte', async () => {
    const tar = await tarball([
      {name: 'f', data: 'x', pax: {'SCHILY.xattr.user.bin': 'QQQ', 'SCHILY.xattr.user.text': 'plain'}},
      {name: 'd', type: 'directory', mode: 0o755, pax: {'SCHILY.xattr.user.bin': 'ZZZZ'}},
    ])
    const blob = patchBytes(patchBytes(tar, 'QQQ', Buffer.from([0x00, 0xff, 0x10])), 'ZZZZ', Buffer.from([0xc3, 0x28, 0x80, 0x00]))
    await unpack(blob)
    const hex = (p: string) => execFileSync('getfattr', ['-h', '-n', 'user.bin', '-e', 'hex', '--absolute-names', '--only-values', '--', p]).toString('hex')
    expect(hex(join(dest, 'f'))).toBe('00ff10')
    expect(hex(join(dest, 'd'))).toBe('c3288000')
    expect(userXattrs(join(dest, 'f'))['user.text']).toBe('plain')
    expect(warnings).toEqual([])
  })

  it('keeps PAX mtimes to the nanosecond (files, directories, symlinks, negative times)', async () => {
    const blob = await tarball([
      {name: 'd', type: 'directory', mode: 0o755, pax: {mtime: '1704067200.000000001'}},
      {name: 'd/f', data: 'x', pax: {mtime: '1704067200.123456789'}},
      {name: 'l', type: 'symlink', linkname: 'd/f', pax: {mtime: '1600000000.987654321'}},
      {name: 'old', data: 'y', pax: {mtime: '-1.25'}},
      {name: 'short', data: 'z', pax: {mtime: '1600000000.5'}},
    ])
    await unpack(blob)
    const ns = (p: string) => lstatSync(join(dest, p), {bigint: true}).mtimeNs
    expect(ns('d/f')).toBe(1704067200123456789n)
    expect(ns('d')).toBe(1704067200000000001n)
    expect(ns('l')).toBe(1600000000987654321n)
    expect(ns('old')).toBe(-1250000000n)
    expect(ns('short')).toBe(1600000000500000000n)
    expect(warnings).toEqual([])
  })
})
