import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {globRegExp, labelsMatch, matchAny, parseBoolFilter, parseFilters, parseGoDuration, parseTimestamp, referenceMatches} from '../../src/format/filters.js'

describe('parseFilters', () => {
  it('groups repeated keys in order and keeps everything after the first = as the value', () => {
    const f = parseFilters(['label=a=b', 'name=web', 'label=c', 'name=db'], ['label', 'name'])
    expect(f.get('label')).toEqual(['a=b', 'c'])
    expect(f.get('name')).toEqual(['web', 'db'])
  })
  it('refuses an unknown key and a value without =, in docker words', () => {
    expect(() => parseFilters(['nope=1'], ['name'])).toThrow(new UsageError("invalid filter 'nope'"))
    expect(() => parseFilters(['name'], ['name'])).toThrow(/bad format of filter \(expected name=value\)/)
  })
  it('reads key!=value as the key with a trailing !', () => {
    expect(parseFilters(['label!=a'], ['label!']).get('label!')).toEqual(['a'])
    expect(() => parseFilters(['label!=a'], ['label'])).toThrow("invalid filter 'label'")
  })
  it('matchAny: no values matches everything, otherwise one value must match (OR)', () => {
    const f = parseFilters(['name=a', 'name=b'], ['name'])
    expect(matchAny(f, 'name', (v) => v === 'b')).toBe(true)
    expect(matchAny(f, 'name', () => false)).toBe(false)
    expect(matchAny(f, 'id', () => false)).toBe(true)
  })
})

describe('labelsMatch', () => {
  const labels = {a: '1', b: ''}
  it.each([
    [['a'], true],
    [['a=1'], true],
    [['a=2'], false],
    [['b='], true],
    [['a', 'b'], true],
    [['a', 'c'], false],
    [[], true],
  ])('%j on {a:1,b:""} is %s (every value must match)', (values, want) => {
    expect(labelsMatch(values, labels)).toBe(want)
  })
  it('negated (label!=): matches when none does', () => {
    expect(labelsMatch(['c'], labels, true)).toBe(true)
    expect(labelsMatch(['c', 'a=1'], labels, true)).toBe(false)
  })
})

describe('time values', () => {
  const now = Date.parse('2024-06-01T12:00:00Z')
  it.each([
    ['10m', 600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['300ms', 300],
    ['-2s', -2000],
  ])('Go duration %s', (s, ms) => expect(parseGoDuration(s)).toBe(ms))
  it('a duration counts back from now; unix seconds and RFC 3339 are absolute', () => {
    expect(parseTimestamp('10m', now)).toBe(now - 600_000)
    expect(parseTimestamp('1700000000', now)).toBe(1_700_000_000_000)
    expect(parseTimestamp('1700000000.5', now)).toBe(1_700_000_000_500)
    expect(parseTimestamp('0', now)).toBe(0)
    expect(parseTimestamp('2024-01-02T03:04:05Z', now)).toBe(Date.parse('2024-01-02T03:04:05Z'))
    expect(parseTimestamp('2024-01-02T03:04:05.25+01:00', now)).toBe(Date.parse('2024-01-02T02:04:05.250Z'))
    expect(parseTimestamp('2024-01-02', now)).toBe(new Date(2024, 0, 2).getTime())
  })
  it('anything else is one clear error', () => {
    expect(() => parseTimestamp('yesterday')).toThrow(/failed to parse value as time or duration: "yesterday"/)
  })
  it('booleans as Go parses them', () => {
    expect(parseBoolFilter('dangling', 'true')).toBe(true)
    expect(parseBoolFilter('dangling', '0')).toBe(false)
    expect(() => parseBoolFilter('dangling', 'maybe')).toThrow("invalid filter 'dangling=maybe'")
  })
})

describe('reference filter', () => {
  it.each([
    ['busybox', 'busybox', 'latest', true],
    ['busy*', 'busybox', 'latest', true],
    ['busybox:latest', 'busybox', 'latest', true],
    ['busybox:1.*', 'busybox', 'latest', false],
    ['*', 'library/x/y', 'latest', false],
    ['*/*', '127.0.0.1:5000/app', 'v1', true],
    ['docker.io/library/busybox', 'busybox', 'latest', true],
  ])('%s against %s:%s is %s', (pattern, name, tag, want) => {
    expect(referenceMatches(pattern, name, tag)).toBe(want)
  })
  it('glob classes', () => {
    expect(globRegExp('a[bc]d').test('acd')).toBe(true)
    expect(globRegExp('a[!bc]d').test('acd')).toBe(false)
  })
})

describe('prune filters', () => {
  const now = Date.parse('2024-06-01T12:00:00Z')
  it('until keeps what was created after it; label and label! as docker', async () => {
    const {parsePruneFilters, pruneMatches} = await import('../../src/format/filters.js')
    const f = parsePruneFilters(['until=1h'], now)
    expect(pruneMatches(f, '2024-06-01T10:00:00Z', {}, now)).toBe(true)
    expect(pruneMatches(f, '2024-06-01T11:30:00Z', {}, now)).toBe(false)
    expect(pruneMatches(f, undefined, {}, now)).toBe(false)
    const l = parsePruneFilters(['label=ci', 'label!=keep'], now)
    expect(pruneMatches(l, undefined, {ci: '1'}, now)).toBe(true)
    expect(pruneMatches(l, undefined, {ci: '1', keep: ''}, now)).toBe(false)
    expect(pruneMatches(l, undefined, {}, now)).toBe(false)
    expect(() => parsePruneFilters(['dangling=true'])).toThrow("invalid filter 'dangling'")
  })
})
