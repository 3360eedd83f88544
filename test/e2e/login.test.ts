import {chmodSync, existsSync, readFileSync, statSync, writeFileSync, mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {ctr, REPO_ROOT, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {resetTokenServerLog, tokenServerLog} from '../harness/token-server.js'

const FIXTURES = join(REPO_ROOT, 'test', 'fixtures')
let t: TempRoot
let dockerConfig: string

beforeEach(() => {
  t = tempRoot()
  dockerConfig = join(t.home, '.docker', 'config.json')
})
afterEach(() => t.cleanup())

const b64 = (s: string) => Buffer.from(s).toString('base64')

describe('login / logout against the token-auth registry', () => {
  it('refuses a wrong password and stores nothing', async () => {
    const {authRegistry} = testEnv()
    const r = await ctr(['login', '-u', 'tester', '--password-stdin', authRegistry], {env: t.env, input: 'wrong\n'})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe('ctr-ts: login failed: unauthorized\n')
    expect(existsSync(dockerConfig)).toBe(false)
  })

  it('checks a good password with the token server, stores it 0600, keeps other keys; logout removes it', async () => {
    const {authRegistry, tokenServer, fixtures} = testEnv()
    mkdirSync(join(t.home, '.docker'), {recursive: true})
    writeFileSync(dockerConfig, JSON.stringify({auths: {'other.example': {auth: b64('a:b')}}, psFormat: 'table {{.ID}}'}))
    chmodSync(dockerConfig, 0o644)
    await resetTokenServerLog(tokenServer)
    const r = await ctr(['login', '-u', 'tester', '--password-stdin', authRegistry], {env: t.env, input: 'secret\n'})
    expect(r.stderr).not.toContain('secret')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('Login Succeeded')
    expect(r.stdout).not.toContain('secret')
    expect(statSync(dockerConfig).mode & 0o777).toBe(0o600)
    const doc = JSON.parse(readFileSync(dockerConfig, 'utf8'))
    expect(doc.auths[authRegistry]).toEqual({auth: b64('tester:secret')})
    expect(doc.auths['other.example']).toEqual({auth: b64('a:b')})
    expect(doc.psFormat).toBe('table {{.ID}}')
    const log = await tokenServerLog(tokenServer)
    expect(log.some((e) => e.user === 'tester' && e.status === 200 && !e.query.scope)).toBe(true)

    // The stored credentials are what a pull of the private image uses.
    const pulled = await ctr(['pull', fixtures.private!.ref], {env: t.env})
    expect(pulled.stderr).not.toContain('unauthorized')
    expect(pulled.exitCode).toBe(0)

    const out = await ctr(['logout', authRegistry], {env: t.env})
    expect(out.exitCode).toBe(0)
    expect(out.stdout).toContain(`Removing login credentials for ${authRegistry}`)
    const after = JSON.parse(readFileSync(dockerConfig, 'utf8'))
    expect(after.auths[authRegistry]).toBeUndefined()
    expect(after.auths['other.example']).toEqual({auth: b64('a:b')})
    expect(statSync(dockerConfig).mode & 0o777).toBe(0o600)

    const again = await ctr(['logout', authRegistry], {env: t.env})
    expect(again.exitCode).toBe(0)
    expect(again.stdout).toContain(`Not logged in to ${authRegistry}`)
  })

  it('-p works but warns that it is insecure', async () => {
    const {authRegistry} = testEnv()
    const r = await ctr(['login', '-u', 'tester', '-p', 'secret', authRegistry], {env: t.env})
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toMatch(/insecure/)
    expect(r.stderr).not.toContain('secret')
  })

  it('without a terminal, a missing password is a usage error', async () => {
    const {authRegistry} = testEnv()
    const r = await ctr(['login', '-u', 'tester', authRegistry], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe('ctr-ts: no password given: use --password-stdin (stdin is not a terminal)\n')
  })

  it('uses the credential helper named by credsStore instead of the file', async () => {
    const {authRegistry, fixtures} = testEnv()
    const creds = join(t.home, 'helper-creds.json')
    const env = {...t.env, PATH: `${FIXTURES}:${process.env.PATH}`, CTRTEST_CREDS_FILE: creds}
    mkdirSync(join(t.home, '.docker'), {recursive: true})
    writeFileSync(dockerConfig, JSON.stringify({credsStore: 'ctrtest'}))
    const r = await ctr(['login', '-u', 'tester', '--password-stdin', authRegistry], {env, input: 'secret'})
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toContain('docker-credential-ctrtest')
    expect(JSON.parse(readFileSync(creds, 'utf8'))).toEqual({[authRegistry]: {Username: 'tester', Secret: 'secret'}})
    const doc = JSON.parse(readFileSync(dockerConfig, 'utf8'))
    expect(doc).toEqual({credsStore: 'ctrtest'})
    expect(readFileSync(`${creds}.log`, 'utf8')).toContain(`store ${authRegistry}`)

    const pulled = await ctr(['pull', fixtures.private!.ref], {env})
    expect(pulled.exitCode).toBe(0)

    const out = await ctr(['logout', authRegistry], {env})
    expect(out.exitCode).toBe(0)
    expect(JSON.parse(readFileSync(creds, 'utf8'))).toEqual({})
  })

  it('uses registries[host].credHelper from the ctr-ts configuration', async () => {
    const {authRegistry, plainRegistry} = testEnv()
    const creds = join(t.home, 'helper-creds.json')
    const env = {...t.env, PATH: `${FIXTURES}:${process.env.PATH}`, CTRTEST_CREDS_FILE: creds}
    t.writeConfig({registries: {[authRegistry]: {insecure: true, credHelper: 'ctrtest'}, [plainRegistry]: {insecure: true}}})
    const r = await ctr(['login', '-u', 'tester', '--password-stdin', authRegistry], {env, input: 'secret\n'})
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(readFileSync(creds, 'utf8'))[authRegistry]).toEqual({Username: 'tester', Secret: 'secret'})
    expect(existsSync(dockerConfig)).toBe(false)
  })

  it('a registry without authentication accepts any login', async () => {
    const {plainRegistry} = testEnv()
    const r = await ctr(['login', '-u', 'x', '--password-stdin', plainRegistry], {env: t.env, input: 'y'})
    expect(r.exitCode).toBe(0)
    expect(JSON.parse(readFileSync(dockerConfig, 'utf8')).auths[plainRegistry]).toEqual({auth: b64('x:y')})
  })
})
