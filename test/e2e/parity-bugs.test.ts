/**
 * Regression tests for the bugs of issue 16 found trying ctr-ts as a docker user would (bug 1,
 * login over HTTPS, is in pull-tls.test.ts; bug 2, `-u` and its groups, in run-flags.test.ts).
 */
import {describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let img: string
fileRootWithImage('busybox', (root, ref) => {
  t = root
  img = ref
})
const env = () => t.env

describe('issue 16 bugs', () => {
  it('3: run --platform pulls the asked platform when the local image of that name is another one', async () => {
    const amd64 = testEnv().fixtures.index!
    const arm64 = testEnv().fixtures['index-arm64']!
    const pulled = await ctr(['pull', '-q', '--platform', 'linux/amd64', amd64.ref], {env: env()})
    expect(pulled.exitCode, pulled.stderr).toBe(0)
    const same = await ctr(['create', '--platform', 'linux/amd64', amd64.ref, 'true'], {env: env()})
    expect(same.exitCode, same.stderr).toBe(0)
    expect(same.stderr).toBe('')
    const other = await ctr(['create', '--platform', 'linux/arm64', amd64.ref, 'true'], {env: env()})
    expect(other.exitCode, other.stderr).toBe(0)
    const doc = JSON.parse((await ctr(['inspect', other.stdout.trim()], {env: env()})).stdout)
    const c = Array.isArray(doc) ? doc[0] : doc
    expect(c.Image).toContain(arm64.configDigest.replace(/^sha256:/, ''))
    const never = await ctr(['create', '--pull', 'never', '--platform', 'linux/amd64', amd64.ref, 'true'], {env: env()})
    expect(never.exitCode).toBe(125)
    expect(never.stderr).toMatch(/not available for platform linux\/amd64/)
  })

  it('4: no-new-privileges is off by default (docker), on with --security-opt no-new-privileges', async () => {
    const off = await ctr(['run', '--rm', img, 'grep', 'NoNewPrivs', '/proc/self/status'], {env: env()})
    expect(off.stdout).toMatch(/NoNewPrivs:\s+0/)
    const on = await ctr(['run', '--rm', '--security-opt', 'no-new-privileges', img, 'grep', 'NoNewPrivs', '/proc/self/status'], {env: env()})
    expect(on.stdout).toMatch(/NoNewPrivs:\s+1/)
  })

  it('6: wait on a container that was created and never started returns at once', async () => {
    const created = await ctr(['create', img, 'true'], {env: env()})
    expect(created.exitCode, created.stderr).toBe(0)
    const t0 = Date.now()
    const w = await ctr(['wait', created.stdout.trim()], {env: env(), timeoutMs: 20_000})
    expect(w.exitCode).toBe(0)
    expect(w.stdout).toBe('0\n')
    expect(Date.now() - t0).toBeLessThan(10_000)
    // a start that failed (command not found): wait returns at once too, with docker's 127
    const broken = await ctr(['create', img, 'no-such-command'], {env: env()})
    expect(broken.exitCode, broken.stderr).toBe(0)
    // `start` is not run/create/exec: it exits 1 on the error, as docker's does; the container keeps 127
    const started = await ctr(['start', broken.stdout.trim()], {env: env()})
    expect(started.exitCode).toBe(1)
    const t1 = Date.now()
    const w2 = await ctr(['wait', broken.stdout.trim()], {env: env(), timeoutMs: 20_000})
    expect(w2.stdout).toBe('127\n')
    expect(Date.now() - t1).toBeLessThan(10_000)
  })

  it('7: --memory=0 is no limit; -p with --network host warns and runs; an unknown command keeps its words', async () => {
    const mem = await ctr(['run', '--rm', '--memory=0', img, 'echo', 'ok'], {env: env()})
    expect(mem.stderr).toBe('')
    expect(mem.stdout).toBe('ok\n')
    const host = await ctr(['run', '--rm', '--network', 'host', '-p', '18080:80', img, 'echo', 'ran'], {env: env()})
    expect(host.exitCode).toBe(0)
    expect(host.stdout).toBe('ran\n')
    expect(host.stderr).toBe('WARNING: Published ports are discarded when using host network mode\n')
    const unknown = await ctr(['nosuchcmd', 'quay.io/x:1', 'a.b/c'], {env: env()})
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr).toBe("ctr-ts: 'nosuchcmd' is not a ctr-ts command.\nSee 'ctr-ts --help'\n")
    const inTopic = await ctr(['image', 'nosuch', 'a:b'], {env: env()})
    expect(inTopic.exitCode).toBe(1)
    expect(inTopic.stderr).toContain("'image nosuch' is not a ctr-ts command")
  })
})
