import {describe, expect, it} from 'vitest'
import {unknownCommand} from '../../src/cli/launch.js'
import {UsageError} from '../../src/errors.js'
import {applyDnsOptions} from '../../src/network/etc-files.js'
import {processGroups} from '../../src/spec/generate.js'
import {parseMemoryLimit} from '../../src/spec/flags.js'
import {
  RLIM_INFINITY,
  parseAddHost,
  parseAttach,
  parseDevice,
  parseLabelFile,
  parseMount,
  parseNamespaceMode,
  parsePullPolicy,
  parseSysctl,
  parseUlimit,
  resolveGroupAdd,
} from '../../src/spec/run-flags.js'
import {parsePaxTime} from '../../src/layer/exact-times.js'

const exists = (p: string) => p === '/srv/data'

describe('run flag parsers', () => {
  it('--add-host: NAME:IP, NAME=IP, IPv6, host-gateway', () => {
    expect(parseAddHost('db:10.0.0.5', '10.0.2.2')).toEqual({name: 'db', ip: '10.0.0.5'})
    expect(parseAddHost('db=10.0.0.5', '10.0.2.2')).toEqual({name: 'db', ip: '10.0.0.5'})
    expect(parseAddHost('v6:[::1]', '10.0.2.2')).toEqual({name: 'v6', ip: '::1'})
    expect(parseAddHost('v6:fe80::1', '10.0.2.2')).toEqual({name: 'v6', ip: 'fe80::1'})
    expect(parseAddHost('gw:host-gateway', '10.0.2.2')).toEqual({name: 'gw', ip: '10.0.2.2'})
    expect(() => parseAddHost('db', '10.0.2.2')).toThrow(UsageError)
    expect(() => parseAddHost('db:999.1.1.1', '10.0.2.2')).toThrow(/not an IP/)
  })

  it('resolv.conf: each of --dns, --dns-search, --dns-option replaces its part', () => {
    const base = 'nameserver 10.0.2.3\nsearch corp.example\noptions edns0\n'
    expect(applyDnsOptions(base, {dns: ['1.1.1.1', '8.8.8.8'], search: [], options: []})).toBe('nameserver 1.1.1.1\nnameserver 8.8.8.8\nsearch corp.example\noptions edns0\n')
    expect(applyDnsOptions(base, {dns: [], search: ['.'], options: ['ndots:3']})).toBe('nameserver 10.0.2.3\noptions ndots:3\n')
  })

  it('--ulimit', () => {
    expect(parseUlimit('nofile=1024:2048')).toEqual({type: 'RLIMIT_NOFILE', soft: 1024, hard: 2048})
    expect(parseUlimit('core=-1')).toEqual({type: 'RLIMIT_CORE', soft: RLIM_INFINITY, hard: RLIM_INFINITY})
    expect(() => parseUlimit('nofile=10:5')).toThrow(/soft limit/)
    expect(() => parseUlimit('bogus=1')).toThrow(/unknown limit/)
    expect(() => parseUlimit('nofile')).toThrow(UsageError)
  })

  it('--mount: bind, tmpfs, volume (typed), and the errors', () => {
    expect(parseMount('type=bind,src=/srv/data,dst=/data,ro', exists)).toEqual({type: 'bind', bind: {source: '/srv/data', destination: '/data', readOnly: true}})
    expect(parseMount('type=bind,source=/srv/data/,target=/d,bind-propagation=rshared,readonly=false', exists)).toEqual({
      type: 'bind',
      bind: {source: '/srv/data', destination: '/d', readOnly: false, propagation: 'rshared'},
    })
    expect(parseMount('type=tmpfs,target=/t,tmpfs-size=1m,tmpfs-mode=700', exists)).toEqual({
      type: 'tmpfs',
      tmpfs: {destination: '/t', options: ['nosuid', 'nodev', 'noexec', 'rw', 'size=1048576', 'mode=700']},
    })
    expect(parseMount('source=cache,target=/c,volume-nocopy,volume-label=a=b', exists)).toEqual({
      type: 'volume',
      volume: {name: 'cache', destination: '/c', readOnly: false, noCopy: true, labels: {a: 'b'}, driverOptions: {}},
    })
    expect(parseMount('type=volume,target=/anon', exists)).toMatchObject({type: 'volume', volume: {destination: '/anon'}})
    expect(() => parseMount('type=bind,source=/nope,target=/x', exists)).toThrow(/does not exist/)
    expect(() => parseMount('type=bind,source=/srv/data', exists)).toThrow(/target is required/)
    expect(() => parseMount('type=tmpfs,target=/x,volume-nocopy', exists)).toThrow(/not valid with type=tmpfs/)
    expect(() => parseMount('type=nfs,target=/x', exists)).toThrow(/unknown type/)
    expect(() => parseMount('type=bind,source=/srv/data,target=relative', exists)).toThrow(/absolute/)
  })

  it('--device, --pid/--ipc/--uts, --sysctl', () => {
    expect(parseDevice('/dev/fuse')).toEqual({host: '/dev/fuse', container: '/dev/fuse', permissions: 'rwm'})
    expect(parseDevice('/dev/fuse:r')).toEqual({host: '/dev/fuse', container: '/dev/fuse', permissions: 'r'})
    expect(parseDevice('/dev/fuse:/dev/f:rw')).toEqual({host: '/dev/fuse', container: '/dev/f', permissions: 'rw'})
    expect(() => parseDevice('/dev/fuse:/dev/f:x')).toThrow(UsageError)
    expect(parseNamespaceMode('pid', 'host')).toEqual({kind: 'host'})
    expect(parseNamespaceMode('ipc', 'container:web')).toEqual({kind: 'container', container: 'web'})
    expect(parseNamespaceMode('ipc', 'shareable')).toEqual({kind: 'shareable'})
    expect(() => parseNamespaceMode('uts', 'container:web')).toThrow(/--uts/)
    expect(() => parseNamespaceMode('pid', 'shareable')).toThrow(/--pid/)
    const own = {ipcHost: false, netHost: false, utsHost: false}
    expect(parseSysctl('net.ipv4.ip_forward=1', own)).toEqual(['net.ipv4.ip_forward', '1'])
    expect(parseSysctl('kernel.shmmax=100', own)).toEqual(['kernel.shmmax', '100'])
    expect(() => parseSysctl('net.ipv4.ip_forward=1', {...own, netHost: true})).toThrow(/host network/)
    expect(() => parseSysctl('fs.mqueue.msg_max=10', {...own, ipcHost: true})).toThrow(/--ipc host/)
    expect(() => parseSysctl('kernel.pid_max=10', own)).toThrow(/only namespaced/)
  })

  it('--label-file, --pull, -a, --group-add, supplementary groups, --memory=0', () => {
    expect(parseLabelFile('# c\n a=b \n\nc=\n', 'f')).toEqual(['a=b', 'c='])
    expect(() => parseLabelFile('=x', 'f')).toThrow(/no label name/)
    expect(parsePullPolicy(undefined)).toBe('missing')
    expect(() => parsePullPolicy('sometimes')).toThrow(UsageError)
    expect([...parseAttach([])].sort()).toEqual(['stderr', 'stdin', 'stdout'])
    expect([...parseAttach(['STDOUT'])]).toEqual(['stdout'])
    expect(() => parseAttach(['stdlog'])).toThrow(UsageError)
    expect(resolveGroupAdd(['audio', '42'], [{name: 'audio', gid: 29}])).toEqual([29, 42])
    expect(() => resolveGroupAdd(['video'], [])).toThrow(/video/)
    expect(processGroups({gid: 65534, additionalGids: []})).toEqual([65534])
    expect(processGroups({gid: 1000, additionalGids: [5, 1000]}, [7, 5])).toEqual([1000, 5, 7])
    expect(parseMemoryLimit('0')).toBeUndefined()
    expect(parseMemoryLimit('0m')).toBeUndefined()
    expect(parseMemoryLimit('1k')).toBe(1024)
  })

  it('unknown commands keep their words; topics, plugins and flags are left to oclif', () => {
    const ids = new Set(['ps', 'run', 'image:ls', 'image:inspect', 'system:info'])
    expect(unknownCommand(['nosuch', 'quay.io/x:1'], ids)).toBe('nosuch')
    expect(unknownCommand(['image', 'nosuch', 'a:b'], ids)).toBe('image nosuch')
    expect(unknownCommand(['image'], ids)).toBeUndefined()
    expect(unknownCommand(['image', 'ls'], ids)).toBeUndefined()
    expect(unknownCommand(['help', 'run'], ids)).toBeUndefined()
    expect(unknownCommand(['--version'], ids)).toBeUndefined()
    expect(unknownCommand([], ids)).toBeUndefined()
  })

  it('PAX times to the nanosecond', () => {
    expect(parsePaxTime('1704067200.123456789')).toEqual({sec: 1704067200, nsec: 123456789})
    expect(parsePaxTime('1.5')).toEqual({sec: 1, nsec: 500000000})
    expect(parsePaxTime('-1.25')).toEqual({sec: -2, nsec: 750000000})
    expect(parsePaxTime('1704067200.1234567891')).toEqual({sec: 1704067200, nsec: 123456789})
    expect(parsePaxTime('1704067200')).toBeUndefined()
    expect(parsePaxTime('x.1')).toBeUndefined()
  })
})
