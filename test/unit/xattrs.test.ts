import {describe, expect, it} from 'vitest'
import {parseXattrs, quoteRestorePath, restoreScript} from '../../src/layer/xattrs.js'

describe('parseXattrs', () => {
  it('keeps user.* only, never the overlay drivers\' names, and no corrupted binary values', () => {
    const r = parseXattrs({
      'SCHILY.xattr.user.a': 'one',
      'SCHILY.xattr.user.bin': 'x\uFFFDy',
      'SCHILY.xattr.security.selinux': 'ctx',
      'SCHILY.xattr.user.containers.override_stat': '0:0:0755',
      'LIBARCHIVE.xattr.user.b%20c': Buffer.from([0, 1, 2]).toString('base64'),
      'LIBARCHIVE.xattr.%E0%A4%A': 'eA==',
      mtime: '1',
    })
    expect(r.keep).toEqual([
      {name: 'user.a', value: Buffer.from('one')},
      {name: 'user.b c', value: Buffer.from([0, 1, 2])},
    ])
    expect(r.skipped.map((s) => s.why)).toEqual(['binary value', 'not in the user. namespace', 'reserved for the overlay driver', 'invalid name'])
  })

  it('refuses empty or overlong names and values over 64 KiB', () => {
    const r = parseXattrs({'SCHILY.xattr.user.': 'x', 'SCHILY.xattr.user.big': 'z'.repeat(65 * 1024), [`SCHILY.xattr.user.${'n'.repeat(251)}`]: 'x'})
    expect(r.keep).toEqual([])
    expect(r.skipped.map((s) => s.why)).toEqual(['invalid name', 'value larger than 64 KiB', 'invalid name'])
  })
})

describe('setfattr --restore input', () => {
  it('quotes paths byte by byte and writes values in hex', () => {
    expect(quoteRestorePath('a b/c=\\d\né')).toBe('a\\040b/c\\075\\134d\\012\\303\\251')
    const text = restoreScript(new Map([['d/f', [{name: 'user.x y=', value: Buffer.from('hi')}]]]))
    expect(text).toBe('# file: d/f\nuser.x\\040y\\075=0x6869\n\n')
  })
})
