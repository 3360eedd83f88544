/**
 * Pull over HTTPS from a registry with a self-signed certificate: refused with one clear TLS
 * line unless the registry's CA is configured (or it is marked insecure).
 */
import {execFileSync} from 'node:child_process'
import {existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {type RunningRegistry, selfSignedCert, startRegistry, type TlsFiles} from '../harness/registry.js'

let registry: RunningRegistry
let certDir: string
let tls: TlsFiles
let ref: string
const roots: TempRoot[] = []

beforeAll(async () => {
  certDir = mkdtempSync(join(tmpdir(), 'ctr-ts-tls-'))
  tls = selfSignedCert(certDir)
  registry = await startRegistry(undefined, {tls})
  ref = `${registry.host}/tls/busybox:latest`
  // Fill it from the plain test registry (skopeo speaks both); its own auth file, no credentials.
  const authFile = join(certDir, 'auth.json')
  writeFileSync(authFile, '{"auths": {}}\n')
  execFileSync(
    'skopeo',
    ['copy', '--quiet', '--authfile', authFile, '--src-tls-verify=false', '--dest-tls-verify=false', `docker://${testEnv().fixtures.busybox!.ref}`, `docker://${ref}`],
    {stdio: ['ignore', 'ignore', 'pipe'], timeout: 60_000},
  )
}, 120_000)

afterAll(async () => {
  for (const t of roots) await t.cleanup()
  await registry?.stop()
  if (certDir) rmSync(certDir, {recursive: true, force: true})
})

function root(config: unknown): TempRoot {
  const t = tempRoot()
  t.writeConfig(config)
  roots.push(t)
  return t
}

describe('pull from an HTTPS registry with a self-signed certificate', () => {
  it('without its CA: one TLS line, non-zero exit, nothing stored', async () => {
    const t = root({registries: {}})
    const r = await ctr(['pull', '-q', ref], {env: t.env})
    expect(r.exitCode).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^ctr-ts: TLS handshake with ${registry.host.replace(/\./g, '\\.')} failed: self-signed certificate`))
    expect(lines[0]).not.toMatch(/Node\.js|--use-system-ca/)
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe('')
  })

  it('with registries[host].ca: pulls over HTTPS and runs the image', async () => {
    const t = root({registries: {[registry.host]: {ca: tls.certificate}}})
    const r = await ctr(['pull', '-q', ref], {env: t.env})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout.trim()).toBe(ref)
    const run = await ctr(['run', '--rm', '--network', 'none', ref, 'echo', 'over-https'], {env: t.env})
    expect(run.stdout).toBe('over-https\n')
  })

  it('with insecure: true: pulls without verifying the certificate', async () => {
    const t = root({registries: {[registry.host]: {insecure: true}}})
    const r = await ctr(['pull', '-q', ref], {env: t.env})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
  })

  it('a CA that did not sign the certificate is still refused', async () => {
    const other = selfSignedCert(mkdtempSync(join(certDir, 'other-')))
    const t = root({registries: {[registry.host]: {ca: other.certificate}}})
    const r = await ctr(['pull', '-q', ref], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^ctr-ts: TLS handshake with .* failed: /)
  })
})

// Issue 16 bug 1: login used to stop at "serves HTTPS only" where pull upgraded to HTTPS. Both now
// go through the same endpoint walk (RegistryClient.ping): the registry has no authentication,
// so any credentials are accepted once the TLS question is settled the way pull settles it.
describe('login to an HTTPS registry on loopback', () => {
  const dockerConfig = (t: TempRoot) => join(t.home, '.docker', 'config.json')

  it('with insecure: true: upgrades to HTTPS without verification and stores the credentials', async () => {
    const t = root({registries: {[registry.host]: {insecure: true}}})
    const r = await ctr(['login', '-u', 'x', '--password-stdin', registry.host], {env: t.env, input: 'y\n'})
    expect(r.stderr).not.toMatch(/HTTPS only/)
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('Login Succeeded')
    expect(JSON.parse(readFileSync(dockerConfig(t), 'utf8')).auths[registry.host]).toEqual({auth: Buffer.from('x:y').toString('base64')})
  })

  it('with registries[host].ca: verified HTTPS', async () => {
    const t = root({registries: {[registry.host]: {ca: tls.certificate}}})
    const r = await ctr(['login', '-u', 'x', '--password-stdin', registry.host], {env: t.env, input: 'y\n'})
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('Login Succeeded')
  })

  it('without its CA: the same one TLS line as pull, nothing stored', async () => {
    const t = root({registries: {}})
    const r = await ctr(['login', '-u', 'x', '--password-stdin', registry.host], {env: t.env, input: 'y\n'})
    expect(r.exitCode).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^ctr-ts: TLS handshake with ${registry.host.replace(/\./g, '\\.')} failed: self-signed certificate`))
    expect(existsSync(dockerConfig(t))).toBe(false)
  })
})
