import {describe, expect, it} from 'vitest'
import {containerMatches, parsePsFilters, regexpMatch} from '../../src/container/filter.js'
import type {ContainerRecord} from '../../src/container/record.js'
import type {ContainerStatus} from '../../src/container/status.js'

const rec = (over: Partial<ContainerRecord>): ContainerRecord =>
  ({
    id: 'a'.repeat(64),
    name: 'web',
    image: `sha256:${'b'.repeat(64)}`,
    imageRef: 'busybox:latest',
    created: '2024-01-01T00:00:00.000Z',
    args: ['sh'],
    env: [],
    cwd: '/',
    user: '',
    hostname: 'h',
    tty: false,
    stdin: false,
    autoRemove: false,
    init: false,
    readOnly: false,
    runtime: 'runc',
    network: 'slirp4netns',
    diffIds: [],
    stopSignal: 'SIGTERM',
    ports: [],
    labels: {tier: 'web'},
    ...over,
  }) as ContainerRecord

const running: ContainerStatus = {status: 'running', running: true}
const exited = (code: number): ContainerStatus => ({status: 'exited', running: false, exit: {exitCode: code, signal: null, finishedAt: '2024-01-02T00:00:00Z'}})
const none = {ancestorIds: new Set<string>()}
const m = (filters: string[], r: ContainerRecord, s: ContainerStatus = running, resolved = none) => containerMatches(parsePsFilters(filters), r, s, resolved)

describe('ps filters (docker daemon/list.go rules)', () => {
  it('name and id are regular expressions; the name also with its leading slash', () => {
    expect(m(['name=we'], rec({}))).toBe(true)
    expect(m(['name=^/web$'], rec({}))).toBe(true)
    expect(m(['name=^web$'], rec({}))).toBe(true)
    expect(m(['name=^eb'], rec({}))).toBe(false)
    expect(m(['id=^aaaa'], rec({}))).toBe(true)
    expect(regexpMatch('[', '[')).toBe(true)
    expect(regexpMatch('[', 'x')).toBe(false)
  })
  it('status, exited; the same key ORs, different keys AND', () => {
    expect(m(['status=exited', 'status=running'], rec({}))).toBe(true)
    expect(m(['status=exited', 'label=tier=web'], rec({}))).toBe(false)
    expect(m(['exited=3'], rec({}), exited(3))).toBe(true)
    expect(m(['exited=3'], rec({}), running)).toBe(false)
    expect(m(['exited=0', 'exited=3'], rec({}), exited(0))).toBe(true)
  })
  it('ancestor: a resolved image id, the reference as given, or an id prefix', () => {
    expect(m(['ancestor=busybox:latest'], rec({}))).toBe(true)
    expect(m(['ancestor=bbbbbbbb'], rec({}))).toBe(true)
    expect(m(['ancestor=busybox'], rec({}), running, {ancestorIds: new Set([`sha256:${'b'.repeat(64)}`])})).toBe(true)
    expect(m(['ancestor=alpine'], rec({}))).toBe(false)
  })
  it('before/since compare creation times; network the mode; volume matches no container yet', () => {
    expect(m([], rec({}), running, {...none, before: '2024-02-01T00:00:00.000Z'})).toBe(true)
    expect(m([], rec({}), running, {...none, since: '2024-02-01T00:00:00.000Z'})).toBe(false)
    expect(m(['network=slirp4netns'], rec({}))).toBe(true)
    expect(m(['network=host'], rec({}))).toBe(false)
    expect(m(['volume=/data'], rec({}))).toBe(false)
  })
  it('refuses an unknown status or a non-numeric exit code', () => {
    expect(() => parsePsFilters(['status=up'])).toThrow("invalid filter 'status=up'")
    expect(() => parsePsFilters(['exited=x'])).toThrow("invalid filter 'exited=x'")
  })
})
