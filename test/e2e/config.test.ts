import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'

let t: TempRoot
let project: string

beforeAll(() => {
  t = tempRoot()
  project = join(t.home, 'project', 'src')
  mkdirSync(project, {recursive: true})
})
afterAll(() => t.cleanup())

describe('ctr-ts config (real binary)', () => {
  it('prints every value with its origin, as JSON', async () => {
    const rc = join(t.home, 'project', '.ctr-tsrc')
    writeFileSync(rc, 'network:\n  default: none\n')
    const r = await ctr(['config', '--format', 'json'], {env: {...t.env, CTR_TS_PLATFORM: 'linux/arm64'}, cwd: project})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const out = JSON.parse(r.stdout) as {config: {network: {default: string}; storage: {root: string}}; origins: Record<string, string>; sources: string[]}
    expect(out.config.network.default).toBe('none')
    expect(out.origins['network.default']).toBe(rc)
    expect(out.origins.platform).toBe('env CTR_TS_PLATFORM')
    expect(out.origins['storage.root']).toBe('env CTR_TS_ROOT')
    expect(out.origins['runtime.name']).toBe('default')
    expect(out.sources[0]).toBe(join(t.env.XDG_CONFIG_HOME!, 'ctr-ts', 'config.json'))
  })

  it('prints a table with the origins', async () => {
    const file = join(t.home, 'explicit.json')
    writeFileSync(file, JSON.stringify({runtime: {name: 'crun'}}))
    const r = await ctr(['config', '--config', file], {env: t.env, cwd: project})
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(new RegExp(`^runtime\\.name\\s+"crun"\\s+${file.replace(/[.]/g, '\\.')}$`, 'm'))
    expect(r.stdout).toMatch(/^storage\.root\s+.*env CTR_TS_ROOT$/m)
  })

  it('an unknown key is one line naming the file and the key, exit 1', async () => {
    const file = join(t.home, 'bad-key.json')
    writeFileSync(file, JSON.stringify({netwrok: {default: 'none'}}))
    const r = await ctr(['ps', '--config', file], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr).toBe(`ctr-ts: ${file}: netwrok: expected one of the keys registries, storage, runtime, network, platform, logs, portProxy, init, rootfs, security\n`)
  })

  it('a wrong type in a discovered project file is one line, exit 1, no stack trace', async () => {
    const dir = join(t.home, 'other')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'package.json'), JSON.stringify({name: 'x', 'ctr-ts': {logs: {maxSize: 'big'}}}))
    const r = await ctr(['config'], {env: t.env, cwd: dir})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe(`ctr-ts: ${join(dir, 'package.json')}: logs.maxSize: expected a size in bytes, or a string with a unit k, m, g (e.g. "10m")\n`)
    expect(r.stderr).not.toMatch(/\bat .*\.js:\d+/)
  })

  it('a broken user file is reported with its path', async () => {
    const t2 = tempRoot()
    try {
      writeFileSync(join(t2.env.XDG_CONFIG_HOME!, 'ctr-ts', 'config.json'), '{"registries": ')
      const r = await ctr(['config'], {env: t2.env})
      expect(r.exitCode).toBe(1)
      expect(r.stderr.startsWith(`ctr-ts: ${join(t2.env.XDG_CONFIG_HOME!, 'ctr-ts', 'config.json')}: `)).toBe(true)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    } finally {
      await t2.cleanup()
    }
  })

  it('--help documents the merge order', async () => {
    const r = await ctr(['config', '--help'], {env: t.env})
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain('MERGE ORDER')
    expect(r.stdout).toContain('CTR_TS_ROOT')
    expect(r.stdout).toContain('.ctr-tsrc')
  })
})
