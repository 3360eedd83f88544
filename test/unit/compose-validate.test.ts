import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parseComposeYaml} from '../../src/compose/model/parse.js'
import {validateComposeDocument} from '../../src/compose/model/validate.js'
import {ComposeFileError} from '../../src/errors.js'
// @ts-expect-error: a build script (plain JS) without types
import {generateValidator} from '../../scripts/compose-schema-code.mjs'
import {load} from './compose-helpers.js'

const root = join(import.meta.dirname, '..', '..')
const check = (yaml: string) => validateComposeDocument(parseComposeYaml(yaml, 'compose.yaml'), 'compose.yaml')
const problem = (yaml: string) => {
  try {
    check(yaml)
  } catch (err) {
    if (err instanceof ComposeFileError) return err.message
    throw err
  }
  return 'valid'
}

describe('schema validation', () => {
  it('accepts what the compose specification accepts', () => {
    expect(problem(readFileSync(join(root, 'test/unit/fixtures/compose-full.yaml'), 'utf8'))).toBe('valid')
    expect(problem('services:\n  web:\n    image: x\n    x-custom: {anything: [1]}\nx-top: 1\nversion: "3.8"\n')).toBe('valid')
  })

  it('names the file, the path and the problem on one line', () => {
    expect(problem('services:\n  web:\n    image: x\n    ports: [true]\n')).toBe('compose.yaml: services.web.ports[0]: must be a number, a string or an object')
    expect(problem('services:\n  web:\n    image: x\n    foo: 1\n')).toBe('compose.yaml: services.web: additional property "foo" is not allowed')
    expect(problem('services:\n  web: {image: x, depends_on: {db: {condition: bad}}}\n')).toBe(
      'compose.yaml: services.web.depends_on.db.condition: must be one of "service_started", "service_healthy", "service_completed_successfully"',
    )
    expect(problem('services:\n  web: {image: [x]}\n')).toBe('compose.yaml: services.web.image: must be a string')
    expect(problem('services: [a]\n')).toBe('compose.yaml: services: must be an object')
    expect(problem('servics: {}\n')).toBe('compose.yaml: additional property "servics" is not allowed (did you mean "services"?)')
    expect(problem('services:\n  web: {image: x, volumes: [{type: bind, target: /x, bogus: 1}]}\n')).toBe('compose.yaml: services.web.volumes[0]: additional property "bogus" is not allowed')
    expect(problem('services:\n  web: {image: x, restrat: always}\n')).toBe('compose.yaml: services.web: additional property "restrat" is not allowed (did you mean "restart"?)')
    expect(problem('services:\n  web: {image: x, healthcheck: {intervall: 1s}}\n')).toBe('compose.yaml: services.web.healthcheck: additional property "intervall" is not allowed (did you mean "interval"?)')
    expect(problem('service:\n  web: {image: x}\n')).toBe('compose.yaml: additional property "service" is not allowed (did you mean "services"?)')
    expect(problem('services:\n  web: {image: x, zzzzzz: 1}\n')).toBe('compose.yaml: services.web: additional property "zzzzzz" is not allowed')
    for (const msg of [problem('services:\n  web: {image: x, ports: [true]}\n'), problem('networks: {n: {driver: [a]}}\n')]) expect(msg).not.toContain('\n')
  })

  it('reports YAML syntax errors with the line and column', () => {
    expect(() => parseComposeYaml('services:\n  web:\n\timage: x\n', 'compose.yaml')).toThrow(/^compose\.yaml: line 3, column 1: /)
    expect(() => parseComposeYaml('services:\n  web: 1\n  web: 2\n', 'compose.yaml')).toThrow('compose.yaml: line 3, column 3: Map keys must be unique')
    expect(() => parseComposeYaml('- a\n', 'compose.yaml')).toThrow('compose.yaml: top-level object must be a mapping')
    expect(parseComposeYaml('', 'compose.yaml')).toEqual({})
  })

  it('validates each file on its own, so the error names the file at fault', async () => {
    await expect(load({'compose.yaml': 'services:\n  web: {image: x}\n', 'compose.override.yaml': 'services:\n  web: {ports: [{}]}\n'})).rejects.toThrow(
      'compose.override.yaml: services.web.ports[0]: missing required property "target"',
    )
  })

  it('uses a generated validator that matches compose-spec.json (node scripts/compose-schema.mjs)', () => {
    const current = readFileSync(join(root, 'src/compose/model/schema/validator.generated.ts'), 'utf8')
    expect(current === generateValidator(root), 'validator.generated.ts is out of date: run node scripts/compose-schema.mjs').toBe(true)
  })
})

describe('YAML as docker compose reads it', () => {
  it('reads 0-prefixed numbers as octal (file modes), yes/no/on/off as strings', () => {
    expect(parseComposeYaml('a: 0755\nb: 01777\nc: 0\nd: 10\ne: 0o17\nf: yes\ng: "0755"\nh: 0.5\n', 'compose.yaml')).toEqual({a: 0o755, b: 0o1777, c: 0, d: 10, e: 0o17, f: 'yes', g: '0755', h: 0.5})
  })
})
