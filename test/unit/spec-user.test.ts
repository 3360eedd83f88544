import {mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {MAX_GROUPS, readRootfsFile, resolveUser} from '../../src/spec/user.js'

const passwd = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin',
  'www-data:x:33:33:www-data:/var/www:/usr/sbin/nologin',
  'alice:x:1000:1000:Alice:/home/alice:/bin/bash',
  '# comment',
  'broken-line',
  'nohome:x:1001:1001::',
].join('\n')
const group = [
  'root:x:0:',
  'daemon:x:1:',
  'tty:x:5:alice',
  'www-data:x:33:',
  'alice:x:1000:',
  'docker:x:999:alice,bob',
  'audio:x:29:bob, alice',
  'staff:x:50:',
].join('\n')
const files = {passwd, group}

describe('resolveUser', () => {
  it('defaults to root', () => {
    expect(resolveUser(undefined, files)).toEqual({uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root'})
    expect(resolveUser('', files)).toEqual({uid: 0, gid: 0, additionalGids: [], home: '/root', name: 'root'})
    expect(resolveUser(undefined, {})).toEqual({uid: 0, gid: 0, additionalGids: [], home: '/root'})
  })
  it('resolves a name with its primary and supplementary groups', () => {
    expect(resolveUser('alice', files)).toEqual({uid: 1000, gid: 1000, additionalGids: [5, 999, 29], home: '/home/alice', name: 'alice'})
    expect(resolveUser('www-data', files)).toEqual({uid: 33, gid: 33, additionalGids: [], home: '/var/www', name: 'www-data'})
  })
  it('resolves a uid, known or not', () => {
    expect(resolveUser('1000', files)).toMatchObject({uid: 1000, gid: 1000, home: '/home/alice', name: 'alice'})
    expect(resolveUser('4242', files)).toEqual({uid: 4242, gid: 0, additionalGids: [], home: '/'})
    expect(resolveUser('1001', files)).toMatchObject({uid: 1001, gid: 1001, home: '/'})
  })
  it('resolves uid:gid, name:group, uid:groupname, name:gid without supplementary groups', () => {
    expect(resolveUser('4242:4343', files)).toEqual({uid: 4242, gid: 4343, additionalGids: [], home: '/'})
    expect(resolveUser('alice:staff', files)).toEqual({uid: 1000, gid: 50, additionalGids: [], home: '/home/alice', name: 'alice'})
    expect(resolveUser('33:staff', files)).toMatchObject({uid: 33, gid: 50, additionalGids: []})
    expect(resolveUser('alice:7', files)).toMatchObject({uid: 1000, gid: 7, additionalGids: []})
  })
  it('fails like docker on unknown names', () => {
    expect(() => resolveUser('bob', files)).toThrow(new UsageError('unable to find user bob: no matching entries in passwd file'))
    expect(() => resolveUser('bob', {})).toThrow(/unable to find user bob: no matching entries in passwd file/)
    expect(() => resolveUser('alice:nogroup', files)).toThrow(/unable to find group nogroup: no matching entries in group file/)
    expect(() => resolveUser('alice:', files)).toThrow(UsageError)
    expect(() => resolveUser('99999999999', files)).toThrow(/must be in range/)
  })
})

describe('pathological /etc/group (issue 17 item 6)', () => {
  const pw = 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n'
  it('resolves tens of thousands of groups with megabyte member lines quickly', () => {
    const longMembers = Array.from({length: 200_000}, (_, i) => `u${i}`).join(',')
    const lines: string[] = []
    // 4 megabyte lines that list alice at their very end, then 40000 groups listing her.
    for (let i = 0; i < 4; i++) lines.push(`big${i}:x:${500_000 + i}:${longMembers},alice`)
    for (let i = 0; i < 40_000; i++) lines.push(`g${i}:x:${10_000 + i}:bob,alice`)
    lines.push('alice:x:1000:alice')
    const group = lines.join('\n')
    expect(group.length).toBeGreaterThan(4_000_000)
    const t0 = performance.now()
    const u = resolveUser('alice', {passwd: pw, group})
    expect(performance.now() - t0).toBeLessThan(10_000) // generous: test machines are loaded
    expect(u.additionalGids).toHaveLength(40_004)
    expect(u.additionalGids).not.toContain(1000)
    expect(u.additionalGids[0]).toBe(500_000)
  })
  it(`refuses more than ${MAX_GROUPS} supplementary groups with one clear line`, () => {
    const group = Array.from({length: MAX_GROUPS + 10}, (_, i) => `g${i}:x:${10_000 + i}:alice`).join('\n')
    const t0 = performance.now()
    expect(() => resolveUser('alice', {passwd: pw, group})).toThrow(
      new UsageError(`user alice is a member of more than ${MAX_GROUPS} groups in the image's /etc/group (the kernel's limit)`),
    )
    expect(performance.now() - t0).toBeLessThan(10_000) // generous: test machines are loaded
    // A uid:gid or an explicit group never reads the member lists.
    expect(resolveUser('alice:1000', {passwd: pw, group}).additionalGids).toEqual([])
  })
  it('does not count names that merely contain the user name', () => {
    const group = 'a:x:10:malice,alice2\nb:x:11:alice\nc:x:12: alice \n#d:x:13:alice'
    expect(resolveUser('alice', {passwd: pw, group}).additionalGids).toEqual([11, 12])
  })
})

describe('readRootfsFile', () => {
  const root = mkdtempSync(join(tmpdir(), 'spec-user-test-'))
  afterAll(() => rmSync(root, {recursive: true, force: true}))
  let n = 0
  /** A layer directory from a map of relative path → content (null: directory, {link}: symlink). */
  function layer(entries: Record<string, string | null | {link: string}>): string {
    const dir = join(root, `l${n++}`)
    mkdirSync(dir)
    for (const [rel, content] of Object.entries(entries)) {
      const p = join(dir, rel)
      mkdirSync(join(p, '..'), {recursive: true})
      if (content === null) mkdirSync(p, {recursive: true})
      else if (typeof content === 'string') writeFileSync(p, content)
      else symlinkSync(content.link, p)
    }
    return dir
  }

  it('finds the topmost version of a file', () => {
    const base = layer({'etc/passwd': 'base', 'etc/group': 'g'})
    const top = layer({'etc/passwd': 'top'})
    expect(readRootfsFile([top, base], '/etc/passwd')).toBe('top')
    expect(readRootfsFile([top, base], '/etc/group')).toBe('g')
    expect(readRootfsFile([top, base], '/etc/shadow')).toBeUndefined()
  })
  it('respects file whiteouts', () => {
    const base = layer({'etc/passwd': 'base'})
    const mid = layer({'etc/.wh.passwd': ''})
    const top = layer({'usr/bin': null})
    expect(readRootfsFile([top, mid, base], '/etc/passwd')).toBeUndefined()
    const readd = layer({'etc/passwd': 'again'})
    expect(readRootfsFile([readd, top, mid, base], '/etc/passwd')).toBe('again')
  })
  it('respects directory whiteouts', () => {
    const base = layer({'etc/passwd': 'base'})
    const top = layer({'.wh.etc': ''})
    expect(readRootfsFile([top, base], '/etc/passwd')).toBeUndefined()
  })
  it('respects opaque directories', () => {
    const base = layer({'etc/passwd': 'base', 'etc/group': 'g'})
    const top = layer({'etc/.wh..wh..opq': '', 'etc/group': 'g2'})
    expect(readRootfsFile([top, base], '/etc/passwd')).toBeUndefined()
    expect(readRootfsFile([top, base], '/etc/group')).toBe('g2')
  })
  it('resolves symlinks inside the rootfs, never on the host', () => {
    const base = layer({'usr/lib/passwd.real': 'real', 'etc/passwd': {link: '../usr/lib/passwd.real'}, 'etc/group': {link: '/usr/lib/passwd.real'}})
    expect(readRootfsFile([base], '/etc/passwd')).toBe('real')
    expect(readRootfsFile([base], '/etc/group')).toBe('real')
    const evil = layer({'etc/passwd': {link: '../../../../../../../../etc/hostname'}, 'etc2': {link: '/etc'}})
    expect(readRootfsFile([evil], '/etc/passwd')).toBeUndefined()
    const withDirLink = layer({'etc': {link: 'private/etc'}, 'private/etc/passwd': 'via dir link'})
    expect(readRootfsFile([withDirLink], '/etc/passwd')).toBe('via dir link')
    const loop = layer({'etc/passwd': {link: 'passwd'}})
    expect(readRootfsFile([loop], '/etc/passwd')).toBeUndefined()
  })
  it('refuses a file larger than the bound, without reading it', () => {
    const base = layer({'etc/group': 'x'.repeat(2000)})
    expect(readRootfsFile([base], '/etc/group', 4096)).toBe('x'.repeat(2000))
    expect(() => readRootfsFile([base], '/etc/group', 1000)).toThrow(/the image's \/etc\/group is larger than 1000 bytes/)
  })
  it('treats a non-directory in the way as missing', () => {
    const base = layer({'etc/passwd': 'base'})
    const top = layer({etc: 'a file'})
    expect(readRootfsFile([top, base], '/etc/passwd')).toBeUndefined()
  })
})
