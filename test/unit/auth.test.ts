import {describe, expect, it} from 'vitest'
import {basicChallenge, bearerChallenge, parseChallenges} from '../../src/registry/challenge.js'
import {getCredentials} from '../../src/auth/credentials.js'
import {authsLookup, normalizeRegistry} from '../../src/auth/docker-config.js'
import {parseRetryAfter} from '../../src/registry/http.js'
import {endpointsFor, isLoopbackHost, manifestMediaType} from '../../src/registry/client.js'
import {UnsupportedMediaTypeError} from '../../src/errors.js'
import {mkdtempSync, mkdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'

describe('WWW-Authenticate parsing', () => {
  it('parses a docker Bearer challenge', () => {
    const [c] = parseChallenges('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"')
    expect(c).toEqual({
      scheme: 'bearer',
      params: {realm: 'https://auth.docker.io/token', service: 'registry.docker.io', scope: 'repository:library/alpine:pull'},
    })
  })

  it('keeps commas inside quoted values', () => {
    const [c] = parseChallenges('Bearer realm="https://a/token",scope="repository:a/b:pull,push",service="s"')
    expect(c!.params.scope).toBe('repository:a/b:pull,push')
    expect(c!.params.service).toBe('s')
  })

  it('handles spaces, unquoted values, case and escaped quotes', () => {
    const [c] = parseChallenges('BEARER  Realm = "http://127.0.0.1:1/t" , Service=reg , error="invalid \\"token\\""')
    expect(c!.scheme).toBe('bearer')
    expect(c!.params).toEqual({realm: 'http://127.0.0.1:1/t', service: 'reg', error: 'invalid "token"'})
  })

  it('parses Basic', () => {
    const cs = parseChallenges('Basic realm="Registry Realm"')
    expect(basicChallenge(cs)?.params.realm).toBe('Registry Realm')
    expect(bearerChallenge(cs)).toBeUndefined()
  })

  it('parses several challenges in one header and in several headers', () => {
    const cs = parseChallenges('Basic realm="x, y", Bearer realm="https://t/token",service="svc"')
    expect(cs.map((c) => c.scheme)).toEqual(['basic', 'bearer'])
    expect(cs[0]!.params.realm).toBe('x, y')
    expect(bearerChallenge(cs)?.params.service).toBe('svc')
    const multi = parseChallenges(['Basic realm="a"', 'Bearer realm="b"'])
    expect(multi.map((c) => c.params.realm)).toEqual(['a', 'b'])
  })

  it('parses token68 and bare schemes', () => {
    expect(parseChallenges('Negotiate abc123==')).toEqual([{scheme: 'negotiate', params: {token68: 'abc123=='}}])
    expect(parseChallenges('Basic')).toEqual([{scheme: 'basic', params: {}}])
    expect(parseChallenges('')).toEqual([])
    expect(parseChallenges(undefined)).toEqual([])
  })
})

describe('credentials', () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64')
  it('reads base64 auth and username/password from docker config.json', () => {
    const cfg = {auths: {'127.0.0.1:5000': {auth: b64('tester:se:cret')}, 'https://other.io': {username: 'u', password: 'p'}}}
    expect(authsLookup(cfg, '127.0.0.1:5000')).toEqual({username: 'tester', password: 'se:cret'})
    expect(authsLookup(cfg, 'other.io')).toEqual({username: 'u', password: 'p'})
    expect(authsLookup(cfg, 'nope.io')).toBeUndefined()
  })

  it('finds docker.io under the legacy index key', () => {
    const cfg = {auths: {'https://index.docker.io/v1/': {auth: b64('hub:pw')}}}
    expect(authsLookup(cfg, 'docker.io')).toEqual({username: 'hub', password: 'pw'})
    expect(authsLookup(cfg, normalizeRegistry('registry-1.docker.io'))).toEqual({username: 'hub', password: 'pw'})
  })

  it('prefers the ctr-ts configuration, then ~/.docker/config.json', async () => {
    const home = mkdtempSync(join(tmpdir(), 'ctr-auth-'))
    mkdirSync(join(home, '.docker'))
    writeFileSync(join(home, '.docker', 'config.json'), JSON.stringify({auths: {'r.io': {auth: b64('d:1')}}}))
    const env = {HOME: home}
    expect(await getCredentials('r.io', {config: {registries: {}}, env})).toEqual({username: 'd', password: '1'})
    expect(await getCredentials('r.io', {config: {registries: {'r.io': {username: 'c', password: '2'}}}, env})).toEqual({username: 'c', password: '2'})
    expect(await getCredentials('x.io', {config: {registries: {}}, env})).toBeUndefined()
  })
})

describe('endpoints', () => {
  it('tries HTTPS first everywhere; plain HTTP only as the fallback of loopback registries', () => {
    expect(isLoopbackHost('127.0.0.1:5000')).toBe(true)
    expect(isLoopbackHost('localhost')).toBe(true)
    expect(isLoopbackHost('[::1]:5000')).toBe(true)
    expect(isLoopbackHost('example.com')).toBe(false)
    expect(endpointsFor({registries: {}}, '127.0.0.1:5000').map((e) => [e.origin, e.httpFallback === true, e.insecureTls])).toEqual([
      ['https://127.0.0.1:5000', true, false],
      ['http://127.0.0.1:5000', false, false],
    ])
    // A configured CA: HTTPS only, verified with it.
    expect(endpointsFor({registries: {'127.0.0.1:5000': {ca: '/ca.pem'}}}, '127.0.0.1:5000').map((e) => [e.origin, e.caFile])).toEqual([
      ['https://127.0.0.1:5000', '/ca.pem'],
    ])
    expect(endpointsFor({registries: {}}, 'docker.io').map((e) => e.origin)).toEqual(['https://registry-1.docker.io'])
  })

  it('tries mirrors first, in order', () => {
    const eps = endpointsFor({registries: {'docker.io': {mirrors: ['http://127.0.0.1:5000', 'https://mirror.example']}}}, 'docker.io')
    expect(eps.map((e) => [e.origin, e.mirror])).toEqual([
      ['http://127.0.0.1:5000', true],
      ['https://mirror.example', true],
      ['https://registry-1.docker.io', false],
    ])
  })

  it('falls back from HTTPS to HTTP for insecure registries', () => {
    const eps = endpointsFor({registries: {'reg.lan:5000': {insecure: true}}}, 'reg.lan:5000')
    expect(eps.map((e) => e.origin)).toEqual(['https://reg.lan:5000', 'http://reg.lan:5000'])
  })
})

describe('Retry-After and media types', () => {
  it('parses seconds and dates, bounded', () => {
    expect(parseRetryAfter('2', 10_000)).toBe(2000)
    expect(parseRetryAfter('100', 10_000)).toBe(10_000)
    expect(parseRetryAfter(new Date(1_000_000 + 3000).toUTCString(), 10_000, 1_000_000)).toBe(3000)
    expect(parseRetryAfter('soon', 10_000)).toBeUndefined()
  })

  it('detects manifest media types and refuses schema 1', () => {
    const j = (o: unknown) => Buffer.from(JSON.stringify(o))
    expect(manifestMediaType(j({schemaVersion: 2, manifests: []}), 'application/json', 'x')).toBe('application/vnd.oci.image.index.v1+json')
    expect(manifestMediaType(j({schemaVersion: 2, config: {}, layers: []}), undefined, 'x')).toBe('application/vnd.oci.image.manifest.v1+json')
    expect(manifestMediaType(j({schemaVersion: 2}), 'application/vnd.docker.distribution.manifest.v2+json; charset=utf-8', 'x')).toBe(
      'application/vnd.docker.distribution.manifest.v2+json',
    )
    expect(() => manifestMediaType(j({schemaVersion: 1}), undefined, 'x')).toThrow(UnsupportedMediaTypeError)
    expect(() => manifestMediaType(j({schemaVersion: 2}), 'application/vnd.example+json', 'x')).toThrow(UnsupportedMediaTypeError)
  })
})
