/**
 * CTR_TS_TRACE=1: the phase timeline goes to stderr at exit; stdout and the exit code are the same
 * as without it.
 */
import {mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'

const t = tempRoot()
afterAll(() => t.cleanup())

/** The phase lines of a trace table: name → ms. */
function phases(stderr: string): Map<string, number> {
  const lines = stderr.split('\n')
  const start = lines.indexOf('ctr-ts trace:')
  expect(start, stderr).toBeGreaterThanOrEqual(0)
  expect(lines[start + 1]).toMatch(/^phase\s+start ms\s+ms$/)
  const out = new Map<string, number>()
  for (const line of lines.slice(start + 2)) {
    const m = /^(.+?)\s+(?:\d+\.\d\s+)?(\d+\.\d)$/.exec(line)
    if (m) out.set(m[1]!, Number(m[2]))
  }
  return out
}

describe('CTR_TS_TRACE', () => {
  it('version: the start-up phases on stderr, stdout unchanged', async () => {
    const plain = await ctr(['version'], {env: t.env})
    const traced = await ctr(['version'], {env: {...t.env, CTR_TS_TRACE: '1'}})
    expect(plain.exitCode).toBe(0)
    expect(plain.stderr).not.toContain('ctr-ts trace:')
    expect(traced.exitCode).toBe(0)
    expect(traced.stdout).toBe(plain.stdout)
    const p = phases(traced.stderr)
    for (const name of ['node start-up', 'load the CLI bundle', 'oclif: root plugin and manifest', 'oclif: config, find and load the command', 'command version', 'exit', 'total']) {
      expect(p.has(name), `${name} in\n${traced.stderr}`).toBe(true)
    }
    const sum = ['node start-up', 'load the CLI bundle', 'oclif: config, find and load the command', 'command version', 'exit'].reduce((a, n) => a + p.get(n)!, 0)
    // the main sequence adds up to the total (rounding)
    expect(Math.abs(sum - p.get('total')!)).toBeLessThan(1)
  })

  it('ps: the configuration load is a phase of its own', async () => {
    const traced = await ctr(['ps'], {env: {...t.env, CTR_TS_TRACE: '1'}})
    expect(traced.exitCode).toBe(0)
    expect(traced.stdout).toMatch(/^CONTAINER ID/)
    const p = phases(traced.stderr)
    expect(p.has('config'), traced.stderr).toBe(true)
    expect(p.has('command ps')).toBe(true)
  })

  it('errors: still one line, then the table; exit code unchanged', async () => {
    const r = await ctr(['ps', '--bogus'], {env: {...t.env, CTR_TS_TRACE: '1'}})
    expect(r.exitCode).toBe(125)
    expect(r.stdout).toBe('')
    expect(r.stderr.split('\n')[0]).toBe('ctr-ts: Nonexistent flag: --bogus (see ctr-ts ps --help)')
    expect(phases(r.stderr).has('total')).toBe(true)
  })

  it('off: CTR_TS_TRACE=0 prints nothing', async () => {
    const r = await ctr(['version'], {env: {...t.env, CTR_TS_TRACE: '0'}})
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^ctr-ts /)
    expect(r.stderr).not.toContain('ctr-ts trace:')
  })

  it('run --rm: the helpers\' phases (user namespace, shim, runtime, --rm removal) join the timeline', async () => {
    const busybox = testEnv().fixtures.busybox!.ref
    expect((await ctr(['pull', '-q', busybox], {env: t.env})).exitCode).toBe(0)
    // the CLI's own temporary directory: where it puts the file the helpers append to
    const tmp = mkdtempSync(join(tmpdir(), 'ctr-ts-trace-test-'))
    const env = {...t.env, CTR_TS_TRACE: '1', TMPDIR: tmp}
    for (const extra of [[], ['--network', 'none']]) {
      // the container's environment is its own: the helpers' trace file is not in it
      const r = await ctr(['run', '--rm', ...extra, busybox, 'sh', '-c', 'echo "${CTR_TS_TRACE_FILE:-none}"'], {env})
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe('none\n')
      const p = phases(r.stderr)
      for (const name of [
        'config',
        'create (image, record, spec, bundle)',
        'task create',
        'userns: newuidmap + newgidmap',
        'shim: rootfs mount',
        'shim: runtime create',
        'shim: runtime start',
        'shim: runtime delete',
        'shim: unmount',
        'shim: exit command (--rm removal)',
        'session: until the exit code',
      ]) {
        expect(p.has(name), `${name} in\n${r.stderr}`).toBe(true)
      }
      // the default network is attached while the runtime creates the container; none has no helpers
      expect(p.has('network setup (while the runtime creates)'), r.stderr).toBe(extra.length === 0)
    }
    // the file the helpers wrote their phases to is gone
    expect(readdirSync(tmp)).toEqual([])
    rmSync(tmp, {recursive: true, force: true})
  })
})
