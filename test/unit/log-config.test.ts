import {describe, expect, it} from 'vitest'
import {formatByteSize, parseByteSize} from '../../src/config/sizes.js'
import {validateConfig} from '../../src/config/schema.js'
import {inspectLogConfig, resolveLogConfig} from '../../src/container/log-config.js'
import {UsageError} from '../../src/errors.js'
import {shimArgs} from '../../src/shim/spawn.js'

describe('byte sizes', () => {
  it.each([
    ['4096', 4096],
    ['4k', 4096],
    ['10m', 10 * 1024 ** 2],
    ['10M', 10 * 1024 ** 2],
    ['10mb', 10 * 1024 ** 2],
    ['10MiB', 10 * 1024 ** 2],
    ['1.5k', 1536],
    ['1g', 1024 ** 3],
  ])('parses %s', (spec, bytes) => expect(parseByteSize(spec)).toBe(bytes))

  it.each(['', 'ten', '0', '0k', '-1m', '10x', '10 m b', '1t'])('refuses %j', (spec) => expect(parseByteSize(spec)).toBeUndefined())

  it('formats with the largest exact unit', () => {
    expect(formatByteSize(4096)).toBe('4k')
    expect(formatByteSize(10 * 1024 ** 2)).toBe('10m')
    expect(formatByteSize(1024 ** 3)).toBe('1g')
    expect(formatByteSize(1536)).toBe('1536')
    expect(formatByteSize(1000)).toBe('1000')
  })
})

describe('resolveLogConfig', () => {
  it('no options and no defaults: no limit', () => {
    expect(resolveLogConfig([], {})).toEqual({})
  })

  it('--log-opt max-size and max-file', () => {
    expect(resolveLogConfig(['max-size=10m', 'max-file=3'], {})).toEqual({maxSize: 10 * 1024 ** 2, maxFiles: 3})
    expect(resolveLogConfig(['max-size=1k'], {})).toEqual({maxSize: 1024})
  })

  it('the configuration gives defaults, bytes or a size string; flags override them', () => {
    expect(resolveLogConfig([], {maxSize: 2048, maxFiles: 2})).toEqual({maxSize: 2048, maxFiles: 2})
    expect(resolveLogConfig([], {maxSize: '2k'})).toEqual({maxSize: 2048})
    expect(resolveLogConfig(['max-file=5'], {maxSize: '2k', maxFiles: 2})).toEqual({maxSize: 2048, maxFiles: 5})
    expect(resolveLogConfig(['max-size=8k'], {maxSize: '2k', maxFiles: 2})).toEqual({maxSize: 8192, maxFiles: 2})
  })

  it('a configured file count without any size means no limit', () => {
    expect(resolveLogConfig([], {maxFiles: 3})).toEqual({})
  })

  it.each([
    [['max-size=ten'], /invalid --log-opt max-size "ten"/],
    [['max-size=10m', 'max-file=0'], /invalid --log-opt max-file "0": use a whole number from 1 to 100/],
    [['max-size=10m', 'max-file=101'], /from 1 to 100/],
    [['max-size=10m', 'max-file=2.5'], /invalid --log-opt max-file/],
    [['max-file=3'], /max-file needs a size limit/],
    [['labels=a'], /unknown log opt 'labels' for k8s-file log driver/],
    [['max-size'], /expected KEY=VALUE/],
    [['max-size='], /expected KEY=VALUE/],
  ])('refuses %j', (opts, message) => {
    expect(() => resolveLogConfig(opts, {})).toThrow(UsageError)
    expect(() => resolveLogConfig(opts, {})).toThrow(message)
  })
})

describe('inspectLogConfig', () => {
  it('docker shape, sizes with units, max-file defaulting to 1 with a size', () => {
    expect(inspectLogConfig({maxSize: 10 * 1024 ** 2, maxFiles: 3})).toEqual({Type: 'k8s-file', Config: {'max-size': '10m', 'max-file': '3'}})
    expect(inspectLogConfig({maxSize: 4096})).toEqual({Type: 'k8s-file', Config: {'max-size': '4k', 'max-file': '1'}})
  })

  it('a record of an older version (no logConfig) has no options', () => {
    expect(inspectLogConfig(undefined)).toEqual({Type: 'k8s-file', Config: {}})
    expect(inspectLogConfig({})).toEqual({Type: 'k8s-file', Config: {}})
  })
})

describe('config keys logs.maxSize / logs.maxFiles', () => {
  it('accepts bytes or a size string, and a file count from 1 to 100', () => {
    expect(validateConfig({logs: {maxSize: 1024, maxFiles: 3}}, 'f')).toEqual({logs: {maxSize: 1024, maxFiles: 3}})
    expect(validateConfig({logs: {maxSize: '10m'}}, 'f')).toEqual({logs: {maxSize: '10m'}})
  })

  it.each([
    [{maxSize: 'big'}, 'f: logs.maxSize: expected a size in bytes, or a string with a unit k, m, g (e.g. "10m")'],
    [{maxSize: 0}, 'f: logs.maxSize: expected a size in bytes'],
    [{maxSize: 1.5}, 'f: logs.maxSize: expected a size in bytes'],
    [{maxFiles: 0}, 'f: logs.maxFiles: expected a whole number from 1 to 100'],
    [{maxFiles: '3'}, 'f: logs.maxFiles: expected a whole number from 1 to 100'],
  ])('refuses %j', (logs, message) => {
    expect(() => validateConfig({logs}, 'f')).toThrow(message)
  })
})

describe('shim arguments', () => {
  const base = {
    userns: {file: 'u', args: ['--']},
    shimPath: 's',
    id: 'id',
    bundle: 'b',
    runtime: 'runc',
    runtimeArgs: [],
    rootfs: 'r',
    stateDir: 'd',
    logFile: 'l',
    exitFile: 'x',
    tty: false,
    stdin: false,
    diagnosticsFile: 'g',
  }

  it('passes the rotation limits to the shim only when set', () => {
    expect(shimArgs(base)).not.toContain('--log-max-size')
    const args = shimArgs({...base, logRotation: {maxSize: 4096, maxFiles: 3}})
    expect(args.slice(args.indexOf('--log-max-size'), args.indexOf('--log-max-size') + 4)).toEqual(['--log-max-size', '4096', '--log-max-files', '3'])
  })
})
