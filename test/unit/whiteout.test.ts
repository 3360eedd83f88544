import {describe, expect, it} from 'vitest'
import {OPAQUE_MARKER, parseWhiteout, whiteoutName} from '../../src/layer/whiteout.js'
import {normalizeEntryPath, UnsafePathError} from '../../src/layer/safe-path.js'

describe('parseWhiteout', () => {
  it('ordinary names are not whiteouts', () => {
    expect(parseWhiteout('passwd')).toBeUndefined()
    expect(parseWhiteout('.whatever')).toBeUndefined()
    expect(parseWhiteout('wh.x')).toBeUndefined()
  })
  it('.wh.NAME deletes NAME', () => {
    expect(parseWhiteout('.wh.passwd')).toEqual({kind: 'whiteout', target: 'passwd'})
    expect(parseWhiteout('.wh..hidden')).toEqual({kind: 'whiteout', target: '.hidden'})
    expect(parseWhiteout('.wh.a.wh.b')).toEqual({kind: 'whiteout', target: 'a.wh.b'})
  })
  it('opaque marker', () => {
    expect(parseWhiteout(OPAQUE_MARKER)).toEqual({kind: 'opaque'})
    expect(parseWhiteout('.wh..wh..opq')).toEqual({kind: 'opaque'})
  })
  it('AUFS bookkeeping is meta', () => {
    expect(parseWhiteout('.wh..wh.plnk')).toEqual({kind: 'meta'})
    expect(parseWhiteout('.wh..wh.aufs')).toEqual({kind: 'meta'})
  })
  it('whiteouts naming nothing are invalid', () => {
    expect(parseWhiteout('.wh.')?.kind).toBe('invalid')
    expect(parseWhiteout('.wh..')?.kind).toBe('invalid')
    expect(parseWhiteout('.wh...')?.kind).toBe('invalid')
  })
  it('whiteoutName is the inverse', () => {
    expect(whiteoutName('x')).toBe('.wh.x')
    expect(parseWhiteout(whiteoutName('etc'))).toEqual({kind: 'whiteout', target: 'etc'})
  })
})

describe('normalizeEntryPath', () => {
  it('strips leading slashes and dots', () => {
    expect(normalizeEntryPath('/etc/passwd')).toEqual(['etc', 'passwd'])
    expect(normalizeEntryPath('./etc//./passwd')).toEqual(['etc', 'passwd'])
    expect(normalizeEntryPath('./')).toEqual([])
    expect(normalizeEntryPath('usr/bin/')).toEqual(['usr', 'bin'])
  })
  it('resolves inner .. lexically', () => {
    expect(normalizeEntryPath('a/b/../c')).toEqual(['a', 'c'])
    expect(normalizeEntryPath('a/..')).toEqual([])
  })
  it('refuses escapes', () => {
    for (const name of ['..', '../x', 'a/../../x', '/../etc/passwd', './../.wh.x', 'a/b/../../../c']) {
      expect(() => normalizeEntryPath(name), name).toThrow(UnsafePathError)
    }
  })
  it('refuses NUL and over-long names', () => {
    expect(() => normalizeEntryPath('a\0b')).toThrow(/NUL/)
    expect(() => normalizeEntryPath('a/'.repeat(2049))).toThrow(/longer than 4096/)
  })
})
