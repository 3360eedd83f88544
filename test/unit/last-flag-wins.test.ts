import {describe, expect, it} from 'vitest'
import {lastFlagWins} from '../../src/cli/last-flag-wins.js'

const flags = {
  name: {type: 'option' as const},
  env: {type: 'option' as const, char: 'e', multiple: true},
  format: {type: 'option' as const, char: 'f'},
  rm: {type: 'boolean' as const},
  detach: {type: 'boolean' as const, char: 'd'},
}

describe('lastFlagWins: docker lets a single-value flag be repeated, the last one wins', () => {
  it.each([
    [['--name', 'a', '--name', 'b', 'img'], ['--name', 'b', 'img']],
    [['--name=a', '--name', 'b'], ['--name', 'b']],
    [['-f', 'x', '--format=y'], ['--format=y']],
    [['-fx', '-f', 'y'], ['-f', 'y']],
    [['-e', 'A=1', '-e', 'B=2'], ['-e', 'A=1', '-e', 'B=2']],
    [['--rm', '-d', '--rm'], ['-d', '--rm']],
    [['img', '--', '--name', 'x', '--name', 'y'], ['img', '--', '--name', 'x', '--name', 'y']],
    [['--unknown', '1', '--unknown', '2'], ['--unknown', '1', '--unknown', '2']],
  ])('%j → %j', (argv, want) => {
    expect(lastFlagWins(argv, flags)).toEqual(want)
  })
})
