/**
 * Healthchecks run by the shim (issue 10), end to end as the unprivileged user: --health-* flags
 * and the image's HEALTHCHECK, the status going starting → healthy → unhealthy after `retries`
 * failures, a hanging check killed at its timeout, `healthcheck run`, `wait --condition`, ps and
 * inspect, and nothing left after `rm -f`.
 */
import {describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {fileRootWithImage} from '../harness/file-root.js'
import {baseLayerEntries, buildImage, buildLayer} from '../harness/fixtures.js'
import {RegistryClient, sha256} from '../harness/push.js'
import {mountsMentioning, processesMentioning} from '../harness/proc.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

interface Health {
  Status: string
  FailingStreak: number
  Log: Array<{Start: string; End: string; ExitCode: number; Output: string}>
}
interface Inspected {
  Id: string
  State: {Status: string; Running: boolean; Health?: Health}
  Config: {Healthcheck?: {Test: string[]; Interval?: number; Retries?: number}}
}

async function inspect(name: string): Promise<Inspected> {
  const r = await ctr(['inspect', name], {env: env()})
  expect(r.exitCode, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as Inspected[])[0]!
}

async function runD(args: string[]): Promise<string> {
  const r = await ctr(['run', '-d', ...args], {env: env()})
  expect(r.stderr).toBe('')
  expect(r.exitCode).toBe(0)
  return r.stdout.trim()
}

async function waitFor<T>(get: () => Promise<T>, ok: (v: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const end = Date.now() + timeoutMs
  let v = await get()
  while (!ok(v) && Date.now() < end) {
    await new Promise((r) => setTimeout(r, 100))
    v = await get()
  }
  return v
}

async function psStatus(name: string): Promise<string> {
  const r = await ctr(['ps', '--format', 'json'], {env: env()})
  const rows = r.stdout.split('\n').filter((l) => l.trim() !== '').map((l) => JSON.parse(l) as {Names: string; Status: string})
  return rows.find((row) => row.Names.split(',').includes(name))?.Status ?? ''
}

describe('healthchecks', () => {
  it('turns healthy, then unhealthy after `retries` consecutive failures; ps and inspect show it', async () => {
    // passes until /tmp/fail exists, then fails; counts its runs in /tmp/n inside the container
    // (the switch is made by the test, so a loaded machine cannot skip the healthy phase)
    const check = 'n=$(cat /tmp/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /tmp/n; echo check $n; [ ! -e /tmp/fail ]'
    await runD(['--name', 'flaky', '--health-cmd', check, '--health-interval', '400ms', '--health-retries', '3', busybox, 'sleep', '1000'])
    const first = await inspect('flaky')
    expect(first.Config.Healthcheck).toEqual({Test: ['CMD-SHELL', check], Interval: 400_000_000, Retries: 3})
    expect(['starting', 'healthy']).toContain(first.State.Health?.Status)

    const healthy = await waitFor(() => inspect('flaky'), (i) => i.State.Health?.Status === 'healthy')
    expect(healthy.State.Health?.FailingStreak).toBe(0)
    expect(healthy.State.Health?.Log[0]).toMatchObject({ExitCode: 0, Output: 'check 1\n'})
    expect(await psStatus('flaky')).toMatch(/^Up .* \(healthy\)$/)

    expect((await ctr(['exec', 'flaky', 'touch', '/tmp/fail'], {env: env()})).exitCode).toBe(0)
    const unhealthy = await waitFor(() => inspect('flaky'), (i) => i.State.Health?.Status === 'unhealthy')
    const h = unhealthy.State.Health!
    expect(h.Status).toBe('unhealthy')
    expect(h.FailingStreak).toBeGreaterThanOrEqual(3)
    // it turned unhealthy at the 3rd consecutive failure, not before: the last 3 results failed
    expect(h.Log.length).toBeLessThanOrEqual(5)
    for (const l of h.Log.slice(-3)) expect(l.ExitCode).toBe(1)
    expect(Date.parse(h.Log.at(-1)!.End)).toBeGreaterThanOrEqual(Date.parse(h.Log.at(-1)!.Start))
    expect(await psStatus('flaky')).toMatch(/^Up .* \(unhealthy\)$/)
    expect((await ctr(['rm', '-f', 'flaky'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('kills a check that hangs at its timeout (exit -1, docker\'s message) and leaves no check process', async () => {
    const id = await runD(['--name', 'hang', '--health-cmd', 'sleep 777', '--health-timeout', '500ms', '--health-interval', '300ms', '--health-retries', '1', busybox, 'sleep', '1000'])
    // three checks timed out and were killed
    const i = await waitFor(() => inspect('hang'), (x) => (x.State.Health?.Log.length ?? 0) >= 3, 30_000)
    expect(i.State.Health).toMatchObject({Status: 'unhealthy'})
    expect(i.State.Health!.FailingStreak).toBeGreaterThanOrEqual(3)
    const entry = i.State.Health!.Log[0]!
    expect(entry).toMatchObject({ExitCode: -1, Output: 'Health check exceeded timeout (500ms)'})
    const took = Date.parse(entry.End) - Date.parse(entry.Start)
    expect(took).toBeGreaterThanOrEqual(450)
    expect(took).toBeLessThan(3000)
    // the killed checks are gone: at most the one running now is there (no orphan piles up)
    const ps = await ctr(['exec', 'hang', 'ps', '-o', 'pid,args'], {env: env()})
    expect(ps.stdout.split('\n').filter((l) => l.includes('sleep 777')).length).toBeLessThanOrEqual(1)

    // rm -f while a check hangs: nothing of the container is left
    expect((await ctr(['rm', '-f', 'hang'], {env: env()})).exitCode).toBe(0)
    expect(processesMentioning(id)).toEqual([])
    expect(processesMentioning('sleep 777')).toEqual([])
    expect(mountsMentioning(id)).toEqual([])
  }, 60_000)

  it('does not count failures inside the start period (checks then run at the start interval)', async () => {
    await runD(['--name', 'boot', '--health-cmd', 'false', '--health-interval', '400ms', '--health-retries', '1', '--health-start-period', '5s', '--health-start-interval', '200ms', busybox, 'sleep', '1000'])
    const early = await waitFor(() => inspect('boot'), (i) => (i.State.Health?.Log.length ?? 0) >= 2, 4000)
    expect(early.State.Health).toMatchObject({Status: 'starting', FailingStreak: 0})
    expect(early.State.Health!.Log.every((l) => l.ExitCode === 1)).toBe(true)
    const started = Date.now()
    const late = await waitFor(() => inspect('boot'), (i) => i.State.Health?.Status === 'unhealthy')
    expect(late.State.Health!.Status).toBe('unhealthy')
    expect(late.State.Health!.FailingStreak).toBeGreaterThanOrEqual(1)
    expect(Date.now() - started).toBeGreaterThan(500)
    expect((await ctr(['rm', '-f', 'boot'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('starts again as "starting" after a stop; the last state stays readable while stopped', async () => {
    await runD(['--name', 'again', '--init', '--health-cmd', 'true', '--health-interval', '300ms', busybox, 'sleep', '1000'])
    await waitFor(() => inspect('again'), (i) => i.State.Health?.Status === 'healthy')
    expect((await ctr(['stop', '-t', '1', 'again'], {env: env()})).exitCode).toBe(0)
    const stopped = await inspect('again')
    expect(stopped.State.Running).toBe(false)
    expect(stopped.State.Health?.Status).toBe('healthy')
    expect((await ctr(['start', 'again'], {env: env()})).exitCode).toBe(0)
    const restarted = await inspect('again')
    expect(restarted.State.Health).toMatchObject({Status: expect.stringMatching(/^(starting|healthy)$/), FailingStreak: 0})
    const r = await ctr(['wait', '--condition', 'healthy', 'again'], {env: env(), timeoutMs: 20_000})
    expect(r.exitCode, r.stderr).toBe(0)
    expect((await ctr(['rm', '-f', 'again'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('wait --condition healthy returns once the check passes', async () => {
    await runD(['--name', 'slow', '--health-cmd', 'test -f /tmp/ready', '--health-interval', '300ms', busybox, 'sh', '-c', 'sleep 2; touch /tmp/ready; exec sleep 1000'])
    const started = Date.now()
    const r = await ctr(['wait', '--condition', 'healthy', 'slow'], {env: env(), timeoutMs: 30_000})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout.trim()).toBe('-1')
    expect(Date.now() - started).toBeGreaterThanOrEqual(1500)
    expect((await inspect('slow')).State.Health?.Status).toBe('healthy')
    // a container without healthcheck cannot become healthy
    await runD(['--name', 'plain', busybox, 'sleep', '1000'])
    const none = await ctr(['wait', '--condition', 'healthy', 'plain'], {env: env()})
    expect(none.exitCode).not.toBe(0)
    expect(none.stderr).toMatch(/no healthcheck/)
    expect((await ctr(['rm', '-f', 'slow', 'plain'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('healthcheck run runs one check now and records it (0 passed, 1 failed, 125 errors)', async () => {
    await runD(['--name', 'ondemand', '--health-cmd', 'test -f /tmp/ok', '--health-interval', '1h', busybox, 'sleep', '1000'])
    const fail = await ctr(['healthcheck', 'run', 'ondemand'], {env: env()})
    expect(fail.exitCode).toBe(1)
    expect(fail.stdout.trim()).toBe('starting') // one failure of 3 retries: still starting
    expect((await ctr(['exec', 'ondemand', 'touch', '/tmp/ok'], {env: env()})).exitCode).toBe(0)
    const pass = await ctr(['healthcheck', 'run', 'ondemand'], {env: env()})
    expect(pass.stderr).toBe('')
    expect(pass.exitCode).toBe(0)
    const h = (await inspect('ondemand')).State.Health!
    expect(h.Status).toBe('healthy')
    expect(h.Log.map((l) => l.ExitCode)).toEqual([1, 0])
    expect(await psStatus('ondemand')).toMatch(/\(healthy\)$/)

    await runD(['--name', 'nocheck', busybox, 'sleep', '1000'])
    const none = await ctr(['healthcheck', 'run', 'nocheck'], {env: env()})
    expect(none.exitCode).toBe(125)
    expect(none.stderr).toMatch(/no defined healthcheck/)
    expect((await ctr(['healthcheck', 'run', 'missing'], {env: env()})).exitCode).toBe(125)
    expect((await ctr(['rm', '-f', 'ondemand', 'nocheck'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('keeps the first 4 KiB of a check\'s output (then "...", as docker), stdout and stderr together', async () => {
    await runD(['--name', 'chatty', '--health-cmd', 'echo to-stderr >&2; sleep 0.2; head -c 10000 /dev/zero | tr "\\0" x', '--health-interval', '1h', busybox, 'sleep', '1000'])
    const r = await ctr(['healthcheck', 'run', 'chatty'], {env: env()})
    expect(r.exitCode, r.stderr).toBe(0)
    const out = (await inspect('chatty')).State.Health!.Log[0]!.Output
    expect(out).toBe('to-stderr\n' + 'x'.repeat(4096 - 10) + '...')
    expect((await ctr(['rm', '-f', 'chatty'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('refuses --no-healthcheck with --health-* and bad durations, creating nothing', async () => {
    const both = await ctr(['create', '--name', 'bad1', '--no-healthcheck', '--health-cmd', 'true', busybox], {env: env()})
    expect(both.exitCode).toBe(125)
    expect(both.stderr.trim()).toMatch(/^[\w-]+: --no-healthcheck conflicts with --health-\* options$/)
    const dur = await ctr(['create', '--name', 'bad2', '--health-cmd', 'true', '--health-interval', '10', busybox], {env: env()})
    expect(dur.exitCode).toBe(125)
    expect(dur.stderr).toMatch(/invalid duration "10"/)
    for (const name of ['bad1', 'bad2']) expect((await ctr(['inspect', name], {env: env()})).exitCode).not.toBe(0)
  })
})

describe('the image HEALTHCHECK', () => {
  async function pushHealthImage(): Promise<string> {
    const base = await buildLayer(baseLayerEntries(), 'base')
    const img = buildImage({layers: [base], cmd: ['sleep', '1000']})
    const config = JSON.parse(img.config.data.toString('utf8')) as {config: Record<string, unknown>}
    config.config.Healthcheck = {Test: ['CMD-SHELL', 'echo from-image'], Interval: 300_000_000, Retries: 2}
    const data = Buffer.from(JSON.stringify(config))
    const digest = sha256(data)
    const manifest = JSON.parse(img.manifest.toString('utf8')) as {config: {digest: string; size: number}}
    manifest.config = {...manifest.config, digest, size: data.length}
    const body = Buffer.from(JSON.stringify(manifest))
    const registry = testEnv().plainRegistry
    const client = new RegistryClient(registry)
    for (const b of [{data, digest}, ...img.layers]) await client.pushBlob('fixtures/health', b.data, b.digest)
    await client.pushManifest('fixtures/health', 'latest', body, img.manifestMediaType)
    return `${registry}/fixtures/health:latest`
  }

  it('is honoured, merged under --health-* flags, and disabled by --no-healthcheck', async () => {
    const ref = await pushHealthImage()
    expect((await ctr(['pull', '-q', ref], {env: env()})).exitCode).toBe(0)

    await runD(['--name', 'img', ref])
    const i = await waitFor(() => inspect('img'), (x) => x.State.Health?.Status === 'healthy')
    expect(i.Config.Healthcheck).toEqual({Test: ['CMD-SHELL', 'echo from-image'], Interval: 300_000_000, Retries: 2})
    expect(i.State.Health?.Log[0]?.Output).toBe('from-image\n')

    // flags override field by field: the image's command stays
    await runD(['--name', 'merged', '--health-retries', '5', ref])
    expect((await inspect('merged')).Config.Healthcheck).toEqual({Test: ['CMD-SHELL', 'echo from-image'], Interval: 300_000_000, Retries: 5})

    await runD(['--name', 'off', '--no-healthcheck', ref])
    await new Promise((r) => setTimeout(r, 1000))
    const off = await inspect('off')
    // docker's merge: NONE, the other fields still come from the image
    expect(off.Config.Healthcheck?.Test).toEqual(['NONE'])
    expect(off.State.Health).toBeUndefined()
    expect(await psStatus('off')).toMatch(/^Up [^(]*$/)
    expect((await ctr(['healthcheck', 'run', 'off'], {env: env()})).exitCode).toBe(125)
    expect((await ctr(['rm', '-f', 'img', 'merged', 'off'], {env: env()})).exitCode).toBe(0)
  }, 90_000)
})

describe('wait --condition', () => {
  it('next-exit waits for a created container to start and exit; removed waits for the removal', async () => {
    const created = await ctr(['create', '--name', 'later', busybox, 'sh', '-c', 'exit 3'], {env: env()})
    expect(created.exitCode).toBe(0)
    const waiter = ctrSpawn(['wait', '--condition', 'next-exit', 'later'], {env: env()})
    let out = ''
    waiter.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    const waited = new Promise<number>((r) => waiter.on('close', (c) => r(c ?? -1)))
    await new Promise((r) => setTimeout(r, 1500))
    expect(out).toBe('') // not started yet: still waiting
    expect((await ctr(['start', 'later'], {env: env()})).exitCode).toBe(0)
    expect(await waited).toBe(0)
    expect(out.trim()).toBe('3')

    await runD(['--name', 'gone', busybox, 'sh', '-c', 'exit 4'])
    const remover = ctrSpawn(['wait', '--condition', 'removed', 'gone'], {env: env()})
    let out2 = ''
    remover.stdout!.on('data', (d: Buffer) => (out2 += d.toString()))
    const removed = new Promise<number>((r) => remover.on('close', (c) => r(c ?? -1)))
    await new Promise((r) => setTimeout(r, 1500))
    expect(out2).toBe('') // exited, not removed
    expect((await ctr(['rm', 'gone'], {env: env()})).exitCode).toBe(0)
    expect(await removed).toBe(0)
    expect(out2.trim()).toBe('4')

    const bad = await ctr(['wait', '--condition', 'sideways', 'later'], {env: env()})
    expect(bad.exitCode).not.toBe(0)
    expect((await ctr(['rm', '-f', 'later'], {env: env()})).exitCode).toBe(0)
  }, 60_000)
})

