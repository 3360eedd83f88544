import {describe, expect, it} from 'vitest'
import {Trace, traceEnabled} from '../../src/trace.js'
import {asksForHelp, ownCommand} from '../../src/cli/launch.js'
// @ts-expect-error: a build script (plain ESM, no type declarations)
import {lazyRequires} from '../../scripts/lazy-require.mjs'

/** A clock the test moves by hand. */
function clock(start = 0) {
  let now = start
  return {now: () => now, advance: (ms: number) => (now += ms)}
}

describe('trace', () => {
  it('records nothing and only runs the function when disabled', async () => {
    const c = clock()
    const t = new Trace({enabled: false, now: c.now})
    expect(t.phase('a', () => 42)).toBe(42)
    expect(await t.phase('b', async () => 'x')).toBe('x')
    t.mark('m')
    t.record('r', 0, 5)
    expect(t.phases()).toEqual([])
  })

  it('times sync and async phases, also when they fail', async () => {
    const c = clock(10)
    const t = new Trace({enabled: true, now: c.now})
    t.phase('sync', () => c.advance(3))
    const p = t.phase('async', async () => {
      c.advance(7)
      await Promise.resolve()
      return 'done'
    })
    expect(await p).toBe('done')
    expect(() => t.phase('throws', () => {
      c.advance(2)
      throw new Error('boom')
    })).toThrow('boom')
    await expect(t.phase('rejects', async () => {
      c.advance(1)
      throw new Error('no')
    })).rejects.toThrow('no')
    await Promise.resolve() // the rejection handler records after the await above
    expect(t.phases()).toEqual([
      {name: 'sync', start: 10, ms: 3},
      {name: 'async', start: 13, ms: 7},
      {name: 'throws', start: 20, ms: 2},
      {name: 'rejects', start: 22, ms: 1},
    ])
  })

  it('marks the main sequence from the process start, then from the previous mark', () => {
    const c = clock(0)
    const t = new Trace({enabled: true, now: c.now})
    t.mark('node start-up', 40)
    c.advance(55)
    t.mark('load')
    c.advance(5)
    t.phase('config', () => c.advance(10)) // nested in the next step: does not move the mark
    c.advance(2)
    t.mark('command')
    expect(t.phases()).toEqual([
      {name: 'node start-up', start: 0, ms: 40},
      {name: 'load', start: 40, ms: 15},
      {name: 'config', start: 60, ms: 10},
      {name: 'command', start: 55, ms: 17},
    ].sort((a, b) => a.start - b.start))
  })

  it('prints one line per phase and the total', () => {
    const c = clock(0)
    const t = new Trace({enabled: true, now: c.now})
    c.advance(12.34)
    t.mark('start-up')
    t.record('config', 3, 4.5)
    const lines = t.report(20).trimEnd().split('\n')
    expect(lines[0]).toBe('ctr-ts trace:')
    expect(lines[1]).toMatch(/^phase\s+start ms\s+ms$/)
    expect(lines[2]).toMatch(/^start-up\s+0\.0\s+12\.3$/)
    expect(lines[3]).toMatch(/^config\s+3\.0\s+1\.5$/)
    expect(lines[4]).toMatch(/^total\s+20\.0$/)
    // columns line up
    expect(new Set(lines.slice(1).map((l) => l.length)).size).toBe(1)
  })

  it('is on for CTR_TS_TRACE=1 and the like, off when unset, empty, 0, false, no, off', () => {
    for (const v of ['1', 'true', 'yes', 'on', 'TRUE']) expect(traceEnabled(v), v).toBe(true)
    for (const v of [undefined, '', '0', 'false', 'no', 'off', ' OFF ']) expect(traceEnabled(v), String(v)).toBe(false)
  })
})

describe('ownCommand (which argv skips the oclif plugins)', () => {
  const ids = new Set(['ps', 'images', 'image:ls', 'image:rm', 'system:check', 'version'])
  it('finds our commands, with space-separated topics', () => {
    expect(ownCommand(['ps', '-a'], ids)).toBe('ps')
    expect(ownCommand(['image', 'ls', '-q'], ids)).toBe('image:ls')
    expect(ownCommand(['system', 'check', 'extra'], ids)).toBe('system:check')
    expect(ownCommand(['version'], ids)).toBe('version')
  })
  it('leaves help, plugins, topics alone, flags first and typos to oclif', () => {
    expect(ownCommand([], ids)).toBeUndefined()
    expect(ownCommand(['--help'], ids)).toBeUndefined()
    expect(ownCommand(['--version'], ids)).toBeUndefined()
    expect(ownCommand(['help', 'ps'], ids)).toBeUndefined()
    expect(ownCommand(['autocomplete'], ids)).toBeUndefined()
    expect(ownCommand(['image'], ids)).toBeUndefined()
    expect(ownCommand(['pss'], ids)).toBeUndefined()
  })
})

describe('asksForHelp (which argv needs every command: oclif shows help instead)', () => {
  it('is a help flag before --, as oclif tests it', () => {
    expect(asksForHelp(['ps', '--help'], ['--help'])).toBe(true)
    expect(asksForHelp(['image', 'ls', '-q', '--help'], ['--help'])).toBe(true)
    expect(asksForHelp(['ps', '-a'], ['--help'])).toBe(false)
    expect(asksForHelp(['run', '-h', 'box', 'img'], ['--help'])).toBe(false) // run -h is --hostname
    expect(asksForHelp(['run', 'img', '--', 'sh', '--help'], ['--help'])).toBe(false)
  })
})

describe('lazyRequires (the bundle build)', () => {
  it('makes member-only bindings lazy, keeps "use strict" first', () => {
    const src = [
      '"use strict";',
      'const a_1 = require("./a");',
      'const b_1 = __importDefault(require("./b"));',
      'function f() { return new a_1.Thing((0, b_1.default)()); }',
    ].join('\n')
    const out: string = lazyRequires(src)
    expect(out.startsWith('"use strict";\n')).toBe(true)
    expect(out).toContain('const a_1$lazy = __ctrTsLazy(() => require("./a"));')
    expect(out).toContain('new (a_1$lazy()).Thing((0, (b_1$lazy()).default)())')
    expect(out).toContain('function __ctrTsLazy(load)')
    // the module is loaded once, at first use
    const loads: string[] = []
    const require = (p: string) => (loads.push(p), {Thing: class {}, default: () => 1})
    const __importDefault = (m: unknown) => m
    const f = new Function('require', '__importDefault', `${out}\nreturn f`)(require, __importDefault) as () => unknown
    expect(loads).toEqual([])
    f()
    f()
    expect(loads).toEqual(['./a', './b'])
  })

  it('leaves bindings used whole (passed, spread) eager, and files with nothing to change alone', () => {
    const src = ['const a_1 = require("./a");', 'use(a_1);', 'a_1.x();'].join('\n')
    expect(lazyRequires(src)).toBeUndefined()
    expect(lazyRequires('module.exports = 1;')).toBeUndefined()
  })

  it('turns index re-exports into getters', () => {
    const out: string = lazyRequires('exports.Flags = __importStar(require("./flags"));')
    expect(out).toContain('Object.defineProperty(exports, "Flags", {enumerable: true, get})')
  })
})
