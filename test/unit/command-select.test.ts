import {describe, expect, it} from 'vitest'
import {canonicalId, selectCommand, type CommandIndex} from '../../src/cli/command-select.js'

const index: CommandIndex = {
  version: '1.0.0',
  commands: {
    ps: ['container:ls', 'container:list', 'container:ps'],
    run: ['container:run'],
    'image:ls': [],
    images: [],
    'system:check': [],
    version: [],
  },
  fast: {ps: 'ps', run: 'run', version: 'version'},
  helpFlags: ['--help'],
}

describe('selectCommand (which bundle bin/run.js loads)', () => {
  it('a command with a bundle of its own runs from it, also by an alias', () => {
    expect(selectCommand(['ps', '-a'], index)).toEqual({index, id: 'ps', fastDir: 'ps'})
    expect(selectCommand(['container', 'ls', '-q'], index)).toEqual({index, id: 'ps', fastDir: 'ps'})
    expect(selectCommand(['run', '--rm', 'alpine', 'true'], index)).toEqual({index, id: 'run', fastDir: 'run'})
    expect(selectCommand(['container', 'run', 'alpine'], index).fastDir).toBe('run')
  })

  it('help, other commands, flags first and unknown words use the whole CLI', () => {
    expect(selectCommand(['ps', '--help'], index)).toEqual({index, id: 'ps', fastDir: undefined})
    // a help flag after `--` is the container's
    expect(selectCommand(['run', 'alpine', '--', 'ls', '--help'], index).fastDir).toBe('run')
    expect(selectCommand(['image', 'ls'], index)).toEqual({index, id: 'image:ls', fastDir: undefined})
    expect(selectCommand(['images'], index).fastDir).toBeUndefined()
    expect(selectCommand(['--version'], index)).toEqual({index, id: undefined, fastDir: undefined})
    expect(selectCommand(['help', 'ps'], index).fastDir).toBeUndefined()
    expect(selectCommand(['nosuch', 'ps'], index).fastDir).toBeUndefined()
    expect(selectCommand([], index).fastDir).toBeUndefined()
  })

  it('CTR_TS_FAST_BUNDLES=0 (fast false) and a build without an index', () => {
    expect(selectCommand(['ps'], index, false)).toEqual({index, id: 'ps', fastDir: undefined})
    expect(selectCommand(['ps'], undefined)).toEqual({})
    expect(selectCommand(['ps'], {...index, fast: undefined}).fastDir).toBeUndefined()
  })

  it('canonicalId: an id is itself, an alias its command', () => {
    expect(canonicalId(index, 'ps')).toBe('ps')
    expect(canonicalId(index, 'container:list')).toBe('ps')
    expect(canonicalId(index, 'nosuch')).toBeUndefined()
    // inherited properties are not ids
    expect(canonicalId(index, 'toString')).toBeUndefined()
  })
})
