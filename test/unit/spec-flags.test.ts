import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {parseCpus, parseEnvFile, parseMemory, parseSignal, parseTmpfs, parseVolume, signalName} from '../../src/spec/flags.js'

const exists = (p: string) => p !== '/missing'

describe('parseVolume', () => {
  it('parses host:container', () => {
    expect(parseVolume('/data:/mnt', {exists})).toEqual({source: '/data', destination: '/mnt', readOnly: false})
  })
  it('parses ro, rw, propagation and ignores z/Z', () => {
    expect(parseVolume('/data:/mnt:ro', {exists})).toEqual({source: '/data', destination: '/mnt', readOnly: true})
    expect(parseVolume('/data:/mnt:rw,Z', {exists}).readOnly).toBe(false)
    expect(parseVolume('/data/:/mnt/x/:ro,rslave', {exists})).toEqual({
      source: '/data',
      destination: '/mnt/x',
      readOnly: true,
      propagation: 'rslave',
    })
  })
  it('checks the real file system by default', () => {
    expect(parseVolume('/tmp:/t').source).toBe('/tmp')
    expect(() => parseVolume('/no/such/dir/anywhere:/t')).toThrow(/does not exist/)
  })
  it('rejects named, anonymous, relative and bad volumes', () => {
    expect(() => parseVolume('myvol:/data', {exists})).toThrow(/named volumes are not supported/)
    expect(() => parseVolume('/data', {exists})).toThrow(/anonymous volumes/)
    expect(() => parseVolume('./dir:/data', {exists})).toThrow(/must be absolute/)
    expect(() => parseVolume('/data:rel', {exists})).toThrow(/must be absolute/)
    expect(() => parseVolume('/data:/', {exists})).toThrow(/cannot be "\/"/)
    expect(() => parseVolume('/data:/x:bogus', {exists})).toThrow(/unknown option "bogus"/)
    expect(() => parseVolume('/data:/x:ro,rw', {exists})).toThrow(/more than once/)
    expect(() => parseVolume('/a:/b:ro:x', {exists})).toThrow(/too many colons/)
    expect(() => parseVolume('', {exists})).toThrow(UsageError)
    expect(() => parseVolume('/missing:/x', {exists})).toThrow(/host path "\/missing" does not exist/)
  })
})

describe('parseTmpfs', () => {
  it('applies docker defaults', () => {
    expect(parseTmpfs('/run')).toEqual({destination: '/run', options: ['noexec', 'nosuid', 'nodev']})
  })
  it('lets the user options win', () => {
    expect(parseTmpfs('/run:exec,size=64m,mode=1777')).toEqual({
      destination: '/run',
      options: ['nosuid', 'nodev', 'exec', 'size=64m', 'mode=1777'],
    })
    expect(parseTmpfs('/x:rw,uid=1000,gid=1000').options).toEqual(['noexec', 'nosuid', 'nodev', 'rw', 'uid=1000', 'gid=1000'])
  })
  it('rejects bad tmpfs', () => {
    expect(() => parseTmpfs('run')).toThrow(/must be absolute/)
    expect(() => parseTmpfs('')).toThrow(/missing container path/)
    expect(() => parseTmpfs('/run:size=lots')).toThrow(/bad size/)
    expect(() => parseTmpfs('/run:mode=999')).toThrow(/bad mode/)
    expect(() => parseTmpfs('/run:frobnicate')).toThrow(/unknown option/)
  })
})

describe('parseEnvFile', () => {
  it('keeps values literally and bare keys as is', () => {
    const text = '\uFEFF# comment\n\nA=1\n  B=spaced value \nC=\nD\nE=x=y\r\n   # indented\nQ="quoted"\n'
    expect(parseEnvFile(text)).toEqual(['A=1', 'B=spaced value ', 'C=', 'D', 'E=x=y', 'Q="quoted"'])
  })
  it('rejects keys with whitespace and empty keys', () => {
    expect(() => parseEnvFile('MY VAR=1')).toThrow(/line 1: variable "MY VAR" contains whitespaces/)
    expect(() => parseEnvFile('A=1\n=oops')).toThrow(/line 2: no variable name/)
  })
})

describe('parseMemory', () => {
  it('parses sizes in binary units', () => {
    expect(parseMemory('512m')).toBe(512 * 1024 * 1024)
    expect(parseMemory('1g')).toBe(1024 ** 3)
    expect(parseMemory('1.5G')).toBe(1.5 * 1024 ** 3)
    expect(parseMemory('100MiB')).toBe(100 * 1024 ** 2)
    expect(parseMemory('64kb')).toBe(64 * 1024)
    expect(parseMemory('1048576')).toBe(1048576)
    expect(parseMemory('10b')).toBe(10)
  })
  it('rejects bad sizes', () => {
    for (const bad of ['', 'abc', '-1m', '0', '1x', '1.2.3m', 'm']) expect(() => parseMemory(bad), bad).toThrow(UsageError)
  })
})

describe('parseCpus', () => {
  it('parses decimals', () => {
    expect(parseCpus('1.5')).toBe(1.5)
    expect(parseCpus('2')).toBe(2)
    expect(parseCpus('.5')).toBe(0.5)
  })
  it('rejects bad values', () => {
    for (const bad of ['0', '0.0', '-1', 'abc', '', '1e3', '0.0000000001']) expect(() => parseCpus(bad), bad).toThrow(UsageError)
  })
})

describe('parseSignal', () => {
  it('accepts names with or without SIG, any case, and numbers', () => {
    expect(parseSignal('SIGTERM')).toBe(15)
    expect(parseSignal('TERM')).toBe(15)
    expect(parseSignal('term')).toBe(15)
    expect(parseSignal('15')).toBe(15)
    expect(parseSignal('SIGKILL')).toBe(9)
    expect(parseSignal('HUP')).toBe(1)
    expect(parseSignal('SIGUSR1')).toBe(10)
    expect(parseSignal('SIGUSR2')).toBe(12)
    expect(parseSignal('SIGCHLD')).toBe(17)
    expect(parseSignal('SIGWINCH')).toBe(28)
    expect(parseSignal('SIGPWR')).toBe(30)
    expect(parseSignal('SIGSYS')).toBe(31)
    expect(parseSignal('SIGRTMIN')).toBe(34)
    expect(parseSignal('SIGRTMIN+3')).toBe(37)
    expect(parseSignal('RTMAX-1')).toBe(63)
    expect(parseSignal('64')).toBe(64)
  })
  it('rejects unknown signals', () => {
    for (const bad of ['0', '65', 'SIGFOO', '', 'RTMIN+40', 'RTMAX-31']) expect(() => parseSignal(bad), bad).toThrow(UsageError)
  })
  it('names signals', () => {
    expect(signalName(15)).toBe('SIGTERM')
    expect(signalName(9)).toBe('SIGKILL')
    expect(signalName(6)).toBe('SIGABRT')
    expect(signalName(36)).toBe('SIGRTMIN+2')
    expect(signalName(62)).toBe('SIGRTMAX-2')
    for (let n = 1; n <= 64; n++) {
      if (n === 32 || n === 33) continue
      expect(parseSignal(signalName(n))).toBe(n)
    }
  })
})

describe('oneLine (oclif parse errors on one line)', () => {
  it('joins lines, names arguments with their description, drops the help hint and the note', async () => {
    const {oneLine} = await import('../../src/base-command.js')
    expect(oneLine('Missing 1 required arg:\nimage  image to run\nSee more help with --help')).toBe('Missing 1 required arg: image (image to run)')
    expect(oneLine('Parsing --time \n\tExpected an integer but received: abc\nSee more help with --help')).toBe('Parsing --time Expected an integer but received: abc')
    expect(oneLine('Missing 1 required arg:\nimage  image\nNote: --env allow multiple values.\nAlternatively, use "--".')).toBe('Missing 1 required arg: image (image)')
  })
})
