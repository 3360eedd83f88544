import {mkdirSync, mkdtempSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseDockerTime, parseGoDuration} from '../../src/cli/docker-time.js'
import {parseFilterArgs} from '../../src/cli/filter-args.js'
import {logTimeMs} from '../../src/container/logs.js'
import {resolveInRoot, safeEntryName} from '../../src/copy/in-root.js'
import {planCopy, plannedName} from '../../src/copy/plan.js'
import {parseCopyEndpoint} from '../../src/engine/copy.js'
import {eventLine, parseEvents} from '../../src/events/journal.js'
import {matchesFilters} from '../../src/events/stream.js'

describe('docker time arguments', () => {
  const now = Date.UTC(2024, 0, 2, 12, 0, 0)
  it('durations back from now, Unix timestamps, RFC 3339', () => {
    expect(parseGoDuration('1h30m')).toBe(5_400_000)
    expect(parseGoDuration('1.5s')).toBe(1500)
    expect(parseGoDuration('abc')).toBeUndefined()
    expect(parseDockerTime('10m', now)).toBe(now - 600_000)
    expect(parseDockerTime('0', now)).toBe(0)
    expect(parseDockerTime('1704067200.5', now)).toBe(1704067200500)
    expect(parseDockerTime('2024-01-01T00:00:00Z', now)).toBe(Date.UTC(2024, 0, 1))
    expect(parseDockerTime('2024-01-01T02:00:00.250+02:00', now)).toBe(Date.UTC(2024, 0, 1) + 250)
    expect(() => parseDockerTime('yesterday', now)).toThrow(/invalid value for --since/)
  })
  it('log record times keep their nanoseconds as a fraction', () => {
    expect(logTimeMs('2024-01-01T00:00:00.123456789Z')).toBeCloseTo(Date.UTC(2024, 0, 1) + 123.456789, 6)
  })
})

describe('filters', () => {
  it('groups values by key and refuses unknown keys', () => {
    expect(parseFilterArgs(['label=a=b', 'label=c', 'until=1h'], ['label', 'until'])).toEqual({label: ['a=b', 'c'], until: ['1h']})
    expect(() => parseFilterArgs(['nope=1'], ['label'])).toThrow("invalid filter 'nope'")
    expect(() => parseFilterArgs(['label'], ['label'])).toThrow(/bad format of filter/)
  })
  it('matches events as docker does: alternatives within a key, all keys', () => {
    const e = parseEvents(eventLine('container', 'die', 'abcdef', {exitCode: '1', image: 'busybox', name: 'web', team: 'a'}, 'busybox'))[0]!
    expect(matchesFilters(e, {type: ['image', 'container'], event: ['die']})).toBe(true)
    expect(matchesFilters(e, {container: ['abc']})).toBe(true)
    expect(matchesFilters(e, {container: ['web'], image: ['docker.io/library/busybox:latest']})).toBe(true)
    expect(matchesFilters(e, {label: ['team=a']})).toBe(true)
    expect(matchesFilters(e, {label: ['team=b']})).toBe(false)
    expect(matchesFilters(e, {event: ['start']})).toBe(false)
  })
  it('keeps journal lines atomic (at most PIPE_BUF): attributes that do not fit are left out', () => {
    const line = eventLine('container', 'start', 'x', {name: 'n', big: 'y'.repeat(5000)})
    expect(Buffer.byteLength(line)).toBeLessThanOrEqual(4096)
    expect(parseEvents(line)[0]!.Actor.Attributes).toEqual({name: 'n'})
  })
})

describe('cp path rules', () => {
  const dir = {isDir: true, contentsOnly: false}
  const file = {isDir: false, contentsOnly: false}
  const at = (path: string, exists: boolean, isDir: boolean, parentIsDir = true) => ({path, exists, isDir, parentIsDir})
  it('follows docker cp', () => {
    expect(planCopy(file, at('/d', true, true))).toEqual({dir: '/d', strip: false})
    expect(planCopy(file, at('/d/f', true, false))).toEqual({dir: '/d', rename: 'f', strip: false})
    expect(planCopy(file, at('/d/new', false, false))).toEqual({dir: '/d', rename: 'new', strip: false})
    expect(() => planCopy(file, at('/d/new/', false, false))).toThrow(/no such directory/)
    expect(() => planCopy(file, at('/x/y', false, false, false))).toThrow(/no such file or directory/)
    expect(planCopy(dir, at('/d', true, true))).toEqual({dir: '/d', strip: false})
    expect(planCopy({isDir: true, contentsOnly: true}, at('/d', true, true))).toEqual({dir: '/d', strip: true})
    expect(planCopy(dir, at('/d/new', false, false))).toEqual({dir: '/d', rename: 'new', strip: false})
    expect(() => planCopy(dir, at('/d/f', true, false))).toThrow(/cannot copy a directory to a file/)
    expect(plannedName('src/a/b', {dir: '/d', rename: 'new', strip: false})).toBe('new/a/b')
    expect(plannedName('src', {dir: '/d', strip: true})).toBeUndefined()
    expect(plannedName('src/a', {dir: '/d', strip: true})).toBe('a')
  })
  it('splits CONTAINER:PATH like docker', () => {
    expect(parseCopyEndpoint('web:/etc/hosts')).toEqual({container: 'web', path: '/etc/hosts'})
    expect(parseCopyEndpoint('/abs:x')).toEqual({path: '/abs:x'})
    expect(parseCopyEndpoint('./rel:x')).toEqual({path: './rel:x'})
    expect(parseCopyEndpoint('-')).toEqual({path: '-'})
  })
  it('resolves symlinks in the root and refuses entries that climb out', () => {
    const root = mkdtempSync(join(tmpdir(), 'inroot-'))
    mkdirSync(join(root, 'etc'))
    writeFileSync(join(root, 'etc', 'passwd'), 'x')
    symlinkSync('/', join(root, 'up'))
    symlinkSync('../../../../etc', join(root, 'rel'))
    symlinkSync('/etc/passwd', join(root, 'abs'))
    expect(resolveInRoot(root, '/up/etc/passwd', false)).toBe(join(root, 'etc', 'passwd'))
    expect(resolveInRoot(root, '/rel/passwd', false)).toBe(join(root, 'etc', 'passwd'))
    expect(resolveInRoot(root, '/../../etc', false)).toBe(join(root, 'etc'))
    expect(resolveInRoot(root, '/abs', false)).toBe(join(root, 'abs'))
    expect(resolveInRoot(root, '/abs', true)).toBe(join(root, 'etc', 'passwd'))
    symlinkSync('loop', join(root, 'loop'))
    expect(() => resolveInRoot(root, '/loop/x', false)).toThrow(/too many levels/)
    expect(safeEntryName('./a/b/')).toBe('a/b')
    expect(() => safeEntryName('a/../../b')).toThrow(/outside the destination/)
  })
})
