import {describe, expect, it} from 'vitest'
import {ReferenceError} from '../../src/errors.js'
import {parseReference, registryEndpointHost} from '../../src/reference/parse.js'

const D = `sha256:${'a'.repeat(64)}`

describe('parseReference: normalization', () => {
  const cases: Array<[string, string, Partial<{registry: string; repository: string; tag: string; digest: string; familiar: string}>]> = [
    ['alpine', 'docker.io/library/alpine:latest', {registry: 'docker.io', repository: 'library/alpine', tag: 'latest', familiar: 'alpine'}],
    ['alpine:3.19', 'docker.io/library/alpine:3.19', {tag: '3.19', familiar: 'alpine'}],
    ['library/alpine', 'docker.io/library/alpine:latest', {familiar: 'alpine'}],
    ['docker.io/alpine', 'docker.io/library/alpine:latest', {}],
    ['docker.io/library/alpine:edge', 'docker.io/library/alpine:edge', {}],
    ['index.docker.io/library/alpine', 'docker.io/library/alpine:latest', {registry: 'docker.io'}],
    ['user/app', 'docker.io/user/app:latest', {repository: 'user/app', familiar: 'user/app'}],
    ['user/app/sub:v1', 'docker.io/user/app/sub:v1', {repository: 'user/app/sub'}],
    ['localhost/app', 'localhost/app:latest', {registry: 'localhost', repository: 'app', familiar: 'localhost/app'}],
    ['localhost:5000/a/b:tag', 'localhost:5000/a/b:tag', {registry: 'localhost:5000', repository: 'a/b', tag: 'tag'}],
    ['127.0.0.1:5000/fixtures/busybox:latest', '127.0.0.1:5000/fixtures/busybox:latest', {registry: '127.0.0.1:5000'}],
    ['ghcr.io/owner/image', 'ghcr.io/owner/image:latest', {registry: 'ghcr.io', repository: 'owner/image'}],
    ['Example.COM/app', 'Example.COM/app:latest', {registry: 'Example.COM'}],
    ['[::1]:5000/app', '[::1]:5000/app:latest', {registry: '[::1]:5000'}],
    [`alpine@${D}`, `docker.io/library/alpine@${D}`, {digest: D, tag: undefined, familiar: 'alpine'}],
    [`alpine:3.19@${D}`, `docker.io/library/alpine:3.19@${D}`, {digest: D, tag: '3.19'}],
    [`host:5000/a@${D}`, `host:5000/a@${D}`, {registry: 'host:5000', repository: 'a', digest: D}],
    ['a.b-c.example/x', 'a.b-c.example/x:latest', {registry: 'a.b-c.example'}],
    ['my-app_1.2__x', 'docker.io/library/my-app_1.2__x:latest', {}],
    ['app:V1.0_rc-2', 'docker.io/library/app:V1.0_rc-2', {tag: 'V1.0_rc-2'}],
    ['app:_x', 'docker.io/library/app:_x', {tag: '_x'}],
  ]
  for (const [input, normalized, fields] of cases) {
    it(`${input} → ${normalized}`, () => {
      const ref = parseReference(input)
      expect(ref.toString()).toBe(normalized)
      if ('registry' in fields) expect(ref.registry).toBe(fields.registry)
      if ('repository' in fields) expect(ref.repository).toBe(fields.repository)
      if ('tag' in fields) expect(ref.tag).toBe(fields.tag)
      if ('digest' in fields) expect(ref.digest).toBe(fields.digest)
      if ('familiar' in fields) expect(ref.familiarName).toBe(fields.familiar)
    })
  }

  it('asks the registry for the digest when there is one, else the tag', () => {
    expect(parseReference('alpine').reference).toBe('latest')
    expect(parseReference(`alpine:3@${D}`).reference).toBe(D)
  })

  it('gives a familiar string for display', () => {
    expect(parseReference('alpine').familiar()).toBe('alpine:latest')
    expect(parseReference('docker.io/user/app:1').familiar()).toBe('user/app:1')
    expect(parseReference('localhost:5000/a:1').familiar()).toBe('localhost:5000/a:1')
  })

  it('is idempotent', () => {
    for (const s of ['alpine', 'user/app:1', `localhost:5000/a/b:c@${D}`]) {
      const once = parseReference(s).toString()
      expect(parseReference(once).toString()).toBe(once)
    }
  })

  it('maps docker.io to registry-1.docker.io for the API', () => {
    expect(registryEndpointHost('docker.io')).toBe('registry-1.docker.io')
    expect(registryEndpointHost('localhost:5000')).toBe('localhost:5000')
  })
})

describe('parseReference: invalid references', () => {
  const invalid = [
    '',
    ' alpine',
    'alpine ',
    'al pine',
    'Alpine',
    'user/App',
    'alpine:',
    'alpine:-tag',
    'alpine:ta/g',
    `alpine:${'t'.repeat(129)}`,
    'alpine@',
    'alpine@sha256:abc',
    `alpine@sha256:${'A'.repeat(64)}`,
    `alpine@md5:${'a'.repeat(32)}`,
    'alpine@latest',
    ':tag',
    '/alpine',
    'alpine/',
    'a//b',
    'a/-b',
    'a/b-',
    'a/b.',
    '_a',
    'a___b',
    'localhost:99999/app',
    'localhost:port/app',
    'host:5000/',
    'https://docker.io/alpine',
    '-host.com/app',
    `${'a'.repeat(250)}/${'b'.repeat(10)}`,
    'a:b:c',
  ]
  for (const input of invalid) {
    it(`rejects ${JSON.stringify(input.length > 40 ? `${input.slice(0, 40)}…` : input)}`, () => {
      expect(() => parseReference(input)).toThrow(ReferenceError)
    })
  }

  it('says why', () => {
    expect(() => parseReference('Alpine')).toThrow(/must be lowercase/)
    expect(() => parseReference('alpine@sha256:abc')).toThrow(/64 lowercase hex/)
    expect(() => parseReference('alpine:')).toThrow(/invalid tag/)
  })
})
