import {describe, expect, it} from 'vitest'
import {ComposeFileError} from '../../src/errors.js'
import {interpolateDocument, interpolateString, templateVariables, TemplateProblem} from '../../src/compose/model/interpolate.js'
import {parseEnvText} from '../../src/compose/model/env-file.js'

const vars: Record<string, string> = {A: 'a', EMPTY: '', TAG: '1.36', PORT: '8080'}
const lookup = (k: string) => vars[k]
const interp = (s: string, onUnset?: (n: string) => void) => interpolateString(s, {lookup, onUnset})

describe('compose interpolation', () => {
  it('substitutes $VAR and ${VAR}', () => {
    expect(interp('busybox:${TAG}')).toBe('busybox:1.36')
    expect(interp('$A-$TAG')).toBe('a-1.36')
    expect(interp('${A}${A}')).toBe('aa')
    expect(interp('no variables')).toBe('no variables')
  })

  it('gives unset variables "" and reports each', () => {
    const unset: string[] = []
    expect(interp('x${NOPE}y$NOPE2', (n) => unset.push(n))).toBe('xy')
    expect(unset).toEqual(['NOPE', 'NOPE2'])
  })

  it('knows :- and - (unset or empty / unset)', () => {
    expect(interp('${NOPE:-def}')).toBe('def')
    expect(interp('${EMPTY:-def}')).toBe('def')
    expect(interp('${EMPTY-def}')).toBe('')
    expect(interp('${NOPE-def}')).toBe('def')
    expect(interp('${A:-def}')).toBe('a')
    expect(interp('${NOPE:-}')).toBe('')
  })

  it('knows :+ and + (alternative when set)', () => {
    expect(interp('${A:+alt}')).toBe('alt')
    expect(interp('${EMPTY:+alt}')).toBe('')
    expect(interp('${EMPTY+alt}')).toBe('alt')
    expect(interp('${NOPE+alt}')).toBe('')
  })

  it('knows :? and ? (required), with docker compose\'s message', () => {
    expect(interp('${A:?need it}')).toBe('a')
    expect(() => interp('${NOPE:?need it}')).toThrow('required variable NOPE is missing a value: need it')
    expect(() => interp('${EMPTY:?need it}')).toThrow(TemplateProblem)
    expect(interp('${EMPTY?need it}')).toBe('')
    expect(() => interp('${NOPE?}')).toThrow('required variable NOPE is missing a value')
  })

  it('interpolates defaults themselves (nested), only when used', () => {
    expect(interp('${NOPE:-${A}-x}')).toBe('a-x')
    expect(interp('${NOPE:-${NOPE2:-${TAG}}}')).toBe('1.36')
    expect(interp('${A:-${NOPE:?not evaluated}}')).toBe('a')
    expect(interp('${NOPE:-$$literal}')).toBe('$literal')
  })

  it('turns $$ into $ and leaves a lone $ alone', () => {
    expect(interp('echo $$HOME')).toBe('echo $HOME')
    expect(interp('$${A}')).toBe('${A}')
    expect(interp('cost: 5$')).toBe('cost: 5$')
    expect(interp('a $ b')).toBe('a $ b')
    expect(interp('$1')).toBe('$1')
  })

  it('refuses broken templates', () => {
    expect(() => interp('${A')).toThrow(TemplateProblem)
    expect(() => interp('${}')).toThrow(TemplateProblem)
    expect(() => interp('${A B}')).toThrow(TemplateProblem)
    expect(() => interp('${1A}')).toThrow(TemplateProblem)
    expect(() => interp('${A:*x}')).toThrow(TemplateProblem)
  })

  it('interpolates values of a document, never keys, and names file and path on errors', () => {
    const doc = {services: {web: {image: 'busybox:${TAG}', ports: ['${PORT}:80', 3000], environment: {'${A}': '$A'}, init: true}}}
    expect(interpolateDocument(doc, {lookup}, 'compose.yaml')).toEqual({services: {web: {image: 'busybox:1.36', ports: ['8080:80', 3000], environment: {'${A}': 'a'}, init: true}}})
    const bad = {services: {web: {ports: ['ok', '${X:?set X}']}}}
    expect(() => interpolateDocument(bad, {lookup}, 'compose.yaml')).toThrow(ComposeFileError)
    expect(() => interpolateDocument(bad, {lookup}, 'compose.yaml')).toThrow('compose.yaml: services.web.ports[1]: required variable X is missing a value: set X')
  })
})

describe('the variables a template uses', () => {
  it('lists each use with required, default and alternate values, nested ones too', () => {
    expect(templateVariables('$A ${B} ${C:-def} ${D-x} ${E:?err} ${F+alt} $$G ${H:-${I}}')).toEqual([
      {name: 'A', required: false},
      {name: 'B', required: false},
      {name: 'C', required: false, defaultValue: 'def'},
      {name: 'D', required: false, defaultValue: 'x'},
      {name: 'E', required: true},
      {name: 'F', required: false, alternateValue: 'alt'},
      {name: 'H', required: false, defaultValue: '${I}'},
      {name: 'I', required: false},
    ])
    expect(templateVariables('no vars, 5$')).toEqual([])
  })
})

describe('environment files', () => {
  it('reads dotenv syntax and interpolates unquoted and double-quoted values, not single-quoted ones', () => {
    const text = ['# comment', 'A=1', 'export B="two words"', "C='${A} literal'", 'D=${A}-${B}', 'E="${OUTSIDE:-def}"', 'F=', 'G=x # trailing comment'].join('\n')
    expect(parseEnvText(text, (k) => (k === 'OUTSIDE' ? undefined : undefined), '.env')).toEqual({A: '1', B: 'two words', C: '${A} literal', D: '1-two words', E: 'def', F: '', G: 'x'})
  })

  it('uses the lookup for variables not defined in the file', () => {
    expect(parseEnvText('URL=http://${HOST}:80', (k) => (k === 'HOST' ? 'db' : undefined), '.env')).toEqual({URL: 'http://db:80'})
  })

  it('reports a broken template with the file and the key', () => {
    expect(() => parseEnvText('X=${Y:?needed}', () => undefined, '.env')).toThrow('.env: X: required variable Y is missing a value: needed')
  })
})
