import {describe, expect, it} from 'vitest'
import {parseDockerfile} from '../../src/build/dockerfile.js'
import {isIgnored, parseDockerignore} from '../../src/build/dockerignore.js'
import {keyValuePairs, processWord, processWords} from '../../src/build/words.js'

describe('parseDockerfile', () => {
  it('joins continuations, drops comments, splits flags, sees the exec form', () => {
    const ins = parseDockerfile(['# syntax comment', 'ARG V=1', 'FROM base AS b', 'RUN echo a \\', '  # inside', '  && echo b', 'COPY --from=b --chown=1:2 /x /y', 'CMD ["sh", "-c", "x"]', ''].join('\n'))
    expect(ins.map((i) => [i.cmd, i.line])).toEqual([
      ['ARG', 2],
      ['FROM', 3],
      ['RUN', 4],
      ['COPY', 7],
      ['CMD', 8],
    ])
    expect(ins[2]!.rest).toBe('echo a   && echo b')
    expect(ins[3]!.flags).toEqual({from: 'b', chown: '1:2'})
    expect(ins[3]!.rest).toBe('/x /y')
    expect(ins[4]!.json).toEqual(['sh', '-c', 'x'])
  })
  it('the escape directive', () => {
    const ins = parseDockerfile('# escape=`\nFROM x\nRUN a `\n b\n')
    expect(ins[1]!.rest).toBe('a  b')
  })
  it('names the file and line of an unknown instruction', () => {
    expect(() => parseDockerfile('FROM x\n\nFROBNICATE y\n', 'Containerfile')).toThrow('Containerfile:3: unknown instruction: FROBNICATE')
    expect(() => parseDockerfile('RUN x\n')).toThrow(/no FROM/)
    expect(() => parseDockerfile('ENV a=b\nFROM x\n')).toThrow('Dockerfile:1: ENV before the first FROM')
  })
})

describe('word processing', () => {
  const vars = new Map([
    ['A', 'one'],
    ['E', ''],
  ])
  it('expands $VAR, ${VAR}, defaults and alternatives', () => {
    expect(processWord('$A-${A}/${B:-dflt}/${E:-empty}/${E-set}/${A:+alt}/${B:+no}', vars)).toBe('one-one/dflt/empty//alt/')
    expect(processWord('\\$A \'$A\' "$A b"', vars)).toBe('$A $A one b')
  })
  it('splits words on unquoted white space', () => {
    expect(processWords('a "b c" d\\ e $A', vars)).toEqual(['a', 'b c', 'd e', 'one'])
  })
  it('key=value pairs and the legacy form', () => {
    expect(keyValuePairs('X="a b" Y=$A Z', vars, false)).toEqual([
      ['X', 'a b'],
      ['Y', 'one'],
      ['Z', undefined],
    ])
    expect(keyValuePairs('X a b $A', vars, true)).toEqual([['X', 'a b one']])
  })
})

describe('.dockerignore', () => {
  const rules = parseDockerignore('# c\n*.tmp\n/build\n**/node_modules\n!keep.tmp\nsecret/\n')
  it('follows docker: last match wins, directories cover their contents, ** any depth', () => {
    expect(isIgnored(rules, 'a.tmp')).toBe(true)
    expect(isIgnored(rules, 'sub/a.tmp')).toBe(false)
    expect(isIgnored(rules, 'keep.tmp')).toBe(false)
    expect(isIgnored(rules, 'build/out/x')).toBe(true)
    expect(isIgnored(rules, 'x/y/node_modules/z')).toBe(true)
    expect(isIgnored(rules, 'secret/key')).toBe(true)
    expect(isIgnored(rules, 'src/main.ts')).toBe(false)
  })
})
