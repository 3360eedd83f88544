/**
 * Restart policies end to end, through the real binary as the unprivileged user: the shim
 * restarts the container's process in the same rootfs and network namespace with docker's
 * back-off, counts on-failure retries, stops restarting when the user stops the container,
 * keeps published ports up, does not need the CLI, and leaves nothing behind after rm -f.
 */
import {readFileSync} from 'node:fs'
import {connect} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, type TempRoot, tempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {freePort} from '../harness/registry.js'
import {processesMentioning} from '../harness/proc.js'
import {alive} from '../harness/leaks.js'

let t: TempRoot
let busybox: string
let web: string
const env = () => t.env

beforeAll(async () => {
  t = tempRoot()
  busybox = testEnv().fixtures.busybox!.ref
  web = testEnv().fixtures.web!.ref
  for (const ref of [busybox, web]) {
    const pulled = await ctr(['pull', '-q', ref], {env: env()})
    expect(pulled.exitCode, pulled.stderr).toBe(0)
  }
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
})

interface Inspected {
  Id: string
  Created: string
  State: {Status: string; Running: boolean; Restarting: boolean; Pid: number; ShimPid: number; ExitCode: number; StartedAt: string}
  RestartCount: number
  HostConfig: {RestartPolicy: {Name: string; MaximumRetryCount: number}}
}

async function inspect(name: string): Promise<Inspected> {
  const r = await ctr(['inspect', name], {env: env()})
  expect(r.exitCode, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as Inspected[])[0]!
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000, everyMs = 100): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, everyMs))
  }
  return false
}

async function runD(args: string[]): Promise<string> {
  const r = await ctr(['run', '-d', ...args], {env: env()})
  expect(r.stderr).toBe('')
  expect(r.exitCode).toBe(0)
  return r.stdout.trim()
}

/** The body of GET / over plain HTTP/1.0, or undefined when nothing answers. */
function httpBody(port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({host: '127.0.0.1', port})
    let data = ''
    sock.setEncoding('utf8')
    sock.setTimeout(timeoutMs, () => sock.destroy())
    sock.on('connect', () => sock.write('GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n'))
    sock.on('data', (d: string) => (data += d))
    sock.on('close', () => {
      const i = data.indexOf('\r\n\r\n')
      resolve(data.startsWith('HTTP/1.') && i >= 0 ? data.slice(i + 4) : undefined)
    })
    sock.on('error', () => undefined)
  })
}

describe('--restart', () => {
  it('refuses a bad policy and --rm with a policy, with one line', async () => {
    const bad = await ctr(['create', '--restart', 'sometimes', busybox, 'true'], {env: env()})
    expect(bad.exitCode).toBe(125)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toContain("unknown policy 'sometimes'")
    const count = await ctr(['create', '--restart', 'always:3', busybox, 'true'], {env: env()})
    expect(count.exitCode).toBe(125)
    const rm = await ctr(['create', '--rm', '--restart', 'always', busybox, 'true'], {env: env()})
    expect(rm.exitCode).toBe(125)
    expect(rm.stderr).toContain('--restart and --rm')
  })

  it('on-failure:3 restarts a failing process exactly 3 times with growing delays, then it stays exited', async () => {
    const id = await runD(['--name', 'fails', '--restart', 'on-failure:3', busybox, 'sh', '-c', 'echo run; exit 1'])
    expect(await waitFor(async () => (await inspect('fails')).State.Status === 'exited', 30_000)).toBe(true)
    const st = await inspect('fails')
    expect(st.Id).toBe(id)
    expect(st.RestartCount).toBe(3)
    expect(st.State.ExitCode).toBe(1)
    expect(st.HostConfig.RestartPolicy).toEqual({Name: 'on-failure', MaximumRetryCount: 3})
    // one log, four runs
    const logs = await ctr(['logs', '-t', 'fails'], {env: env()})
    const times = logs.stdout
      .split('\n')
      .filter((l) => l.endsWith(' run'))
      .map((l) => Date.parse(l.split(' ')[0]!))
    expect(times).toHaveLength(4)
    const gaps = times.slice(1).map((x, i) => x - times[i]!)
    console.log(`on-failure:3 starts apart: ${gaps.join(', ')} ms`)
    // back-off 100, 200, 400 ms between an exit and the next start (plus create/start)
    expect(gaps[0]!).toBeGreaterThanOrEqual(100)
    expect(gaps[1]!).toBeGreaterThanOrEqual(200)
    expect(gaps[2]!).toBeGreaterThanOrEqual(400)
    // the schedule, as the shim announced it (the runtime's create/start time varies too much on a busy machine to compare gaps)
    const diag = readFileSync(join(t.root, 'containers', id, 'shim.log'), 'utf8')
    expect([...diag.matchAll(/restarting in (\d+) ms/g)].map((m) => Number(m[1]))).toEqual([100, 200, 400])
    // and nothing restarts it later
    await new Promise((r) => setTimeout(r, 1500))
    expect((await inspect('fails')).RestartCount).toBe(3)
    expect((await ctr(['rm', 'fails'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('always restarts after a crash, shows Restarting in ps, and not after stop', async () => {
    await runD(['--name', 'crashy', '--restart', 'always', busybox, 'sh', '-c', 'echo up; exit 3'])
    // the back-off doubles: soon a restart waits long enough to be seen
    let psLine = ''
    let seen: Inspected | undefined
    expect(
      await waitFor(async () => {
        const ps = await ctr(['ps', '-a'], {env: env()})
        psLine = ps.stdout.split('\n').find((l) => l.includes('crashy')) ?? ''
        if (!/Restarting \(3\) .* ago/.test(psLine)) return false
        // the same back-off still going on when inspect looks (an early one lasts 100-200 ms)
        seen = await inspect('crashy')
        return seen.State.Status === 'restarting'
      }, 30_000, 50),
    ).toBe(true)
    const during = seen!
    expect(during.State.Status).toBe('restarting')
    expect(during.State.Restarting).toBe(true)
    expect(during.State.Running).toBe(true)
    expect(during.RestartCount).toBeGreaterThanOrEqual(1)
    // a restarting container is still listed by ps without -a, as docker does
    expect((await ctr(['ps'], {env: env()})).stdout).toContain('crashy')
    const exec = await ctr(['exec', 'crashy', 'true'], {env: env()})
    expect(exec.exitCode).not.toBe(0)

    const stop = await ctr(['stop', '-t', '1', 'crashy'], {env: env()})
    expect(stop.exitCode, stop.stderr).toBe(0)
    const after = await inspect('crashy')
    expect(after.State.Status).toBe('exited')
    expect(after.State.ExitCode).toBe(3)
    await new Promise((r) => setTimeout(r, 2000))
    const later = await inspect('crashy')
    expect(later.State.Status).toBe('exited')
    expect(later.RestartCount).toBe(after.RestartCount)
    expect((await ctr(['rm', 'crashy'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('always restarts a service that dies in the same rootfs, and stop of the running one ends the policy', async () => {
    // the rootfs is kept across restarts: the second run finds the first one's file
    const script = 'if [ -e /restarted ]; then echo again; exec sleep 1000; fi; touch /restarted; echo up; sleep 1; exit 1'
    await runD(['--name', 'svc', '--restart', 'always', '--init', busybox, 'sh', '-c', script])
    expect(await waitFor(async () => (await ctr(['logs', 'svc'], {env: env()})).stdout === 'up\nagain\n', 30_000)).toBe(true)
    const running = await inspect('svc')
    expect(running.State.Status).toBe('running')
    expect(running.RestartCount).toBe(1)
    // StartedAt is the current run's, as docker's
    expect(Date.parse(running.State.StartedAt)).toBeGreaterThan(Date.parse(running.Created) + 1000)
    expect(running.State.Pid).toBeGreaterThan(0)
    expect(alive(running.State.Pid)).toBe(true)
    expect((await ctr(['exec', 'svc', 'cat', '/proc/1/cmdline'], {env: env()})).stdout).toContain('/dev/init')
    expect((await ctr(['exec', 'svc', 'echo', 'in'], {env: env()})).stdout).toBe('in\n')
    expect((await ctr(['stop', 'svc'], {env: env()})).exitCode).toBe(0)
    const stopped = await inspect('svc')
    expect(stopped.State.Status).toBe('exited')
    expect(stopped.State.ExitCode).toBe(143)
    await new Promise((r) => setTimeout(r, 2000))
    expect((await inspect('svc')).State.Status).toBe('exited')
    expect((await inspect('svc')).RestartCount).toBe(1)
    expect((await ctr(['rm', 'svc'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('a published port answers again after a restart, through the same port proxy and slirp4netns', async () => {
    const port = await freePort()
    const id = await runD(['--name', 'websvc', '--restart', 'always', '-p', `127.0.0.1:${port}:80`, web, 'sh', '-c', 'httpd -p 80 -h /www; sleep 3; exit 1'])
    expect(await waitFor(async () => (await httpBody(port)) !== undefined, 20_000)).toBe(true)
    const helpersBefore = processesMentioning('ctr-ts-portproxy').filter((l) => l.includes(`${port}:80`))
    expect(helpersBefore).toHaveLength(1)
    // watch across a restart: the longest time nothing answers
    let lastOk = Date.now()
    let worst = 0
    const restarted = await waitFor(
      async () => {
        // looked at first: an answer after a running state with a restart counted is the new run's
        // (a restart is counted when it is decided, during the back-off, as docker does)
        const state = await inspect('websvc')
        const ok = (await httpBody(port, 1000)) !== undefined
        const now = Date.now()
        if (ok) {
          worst = Math.max(worst, now - lastOk)
          lastOk = now
        }
        return ok && state.RestartCount >= 1 && state.State.Status === 'running'
      },
      30_000,
      50,
    )
    expect(restarted).toBe(true)
    expect(await httpBody(port)).toBe('hello from ctr-ts\n')
    // the port was closed only for the back-off plus the runtime's create/start
    console.log(`published port: longest time without an answer across a restart: ${worst} ms`)
    expect(worst).toBeLessThan(5000)
    expect(processesMentioning('ctr-ts-portproxy').filter((l) => l.includes(`${port}:80`))).toEqual(helpersBefore)
    expect((await ctr(['rm', '-f', 'websvc'], {env: env()})).exitCode).toBe(0)
    expect(processesMentioning(id)).toEqual([])
    expect(processesMentioning('ctr-ts-portproxy').filter((l) => l.includes(`${port}:80`))).toEqual([])
    expect(await httpBody(port, 500)).toBeUndefined()
  }, 60_000)

  it('killing the CLI changes nothing: the shim goes on restarting', async () => {
    const cli = ctrSpawn(['run', '--name', 'nocli', '--restart', 'on-failure:2', busybox, 'sh', '-c', 'echo go; sleep 1; exit 5'], {env: env()})
    let out = ''
    cli.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    expect(await waitFor(() => out.includes('go'), 20_000)).toBe(true)
    cli.kill('SIGKILL')
    await new Promise((r) => cli.on('close', r))
    expect(await waitFor(async () => (await inspect('nocli')).State.Status === 'exited', 30_000)).toBe(true)
    const st = await inspect('nocli')
    expect(st.RestartCount).toBe(2)
    expect(st.State.ExitCode).toBe(5)
    expect((await ctr(['logs', 'nocli'], {env: env()})).stdout).toBe('go\ngo\ngo\n')
    expect((await ctr(['rm', 'nocli'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('an attached client stays attached across a restart and gets the final exit code', async () => {
    // a foreground run attaches before the first start: no output can be missed
    const cli = ctrSpawn(['run', '--name', 'talky', '--restart', 'on-failure:1', busybox, 'sh', '-c', 'echo said; exit 4'], {env: env()})
    let out = ''
    cli.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    const code = await new Promise<number | null>((r) => cli.on('close', r))
    expect(out).toBe('said\nsaid\n')
    expect(code).toBe(4)
    expect((await inspect('talky')).RestartCount).toBe(1)
    expect((await ctr(['rm', 'talky'], {env: env()})).exitCode).toBe(0)
  }, 60_000)

  it('rm -f of a restarting container leaves no process, mount or file', async () => {
    const id = await runD(['--name', 'flappy', '--restart', 'always', busybox, 'sh', '-c', 'exit 1'])
    expect(await waitFor(async () => (await inspect('flappy')).RestartCount >= 3, 30_000)).toBe(true)
    const st = await inspect('flappy')
    const rm = await ctr(['rm', '-f', 'flappy'], {env: env()})
    expect(rm.exitCode, rm.stderr).toBe(0)
    expect(alive(st.State.ShimPid)).toBe(false)
    expect(processesMentioning(id)).toEqual([])
    expect(processesMentioning(join(t.runRoot, 'c', id.slice(0, 12)))).toEqual([])
    expect(processesMentioning(join(t.root, 'containers', id))).toEqual([])
    expect((await ctr(['ps', '-a', '-q', '--no-trunc'], {env: env()})).stdout).not.toContain(id)
  }, 60_000)

  it('start --all-restartable starts always and unless-stopped containers, not those the user stopped', async () => {
    await runD(['--name', 'keep', '--restart', 'always', busybox, 'sleep', '1000'])
    await runD(['--name', 'unless', '--restart', 'unless-stopped', busybox, 'sleep', '1000'])
    await runD(['--name', 'unless-stopped-by-me', '--restart', 'unless-stopped', busybox, 'sleep', '1000'])
    await runD(['--name', 'plain', busybox, 'sleep', '1000'])
    expect((await ctr(['stop', '-t', '0', 'unless-stopped-by-me'], {env: env()})).exitCode).toBe(0)
    // a logout or reboot: every process gone, no exit file
    for (const name of ['keep', 'unless', 'plain']) {
      const st = await inspect(name)
      process.kill(st.State.ShimPid, 'SIGKILL')
      process.kill(st.State.Pid, 'SIGKILL')
    }
    const down = async () => {
      for (const name of ['keep', 'unless', 'plain']) if ((await inspect(name)).State.Running) return false
      return true
    }
    expect(await waitFor(down, 20_000)).toBe(true)
    const r = await ctr(['start', '--all-restartable'], {env: env()})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout.split('\n').filter(Boolean).sort()).toEqual(['keep', 'unless'])
    for (const name of ['keep', 'unless']) expect((await inspect(name)).State.Status).toBe('running')
    for (const name of ['plain', 'unless-stopped-by-me']) expect((await inspect(name)).State.Status).toBe('exited')
    expect((await ctr(['rm', '-f', 'keep', 'unless', 'plain', 'unless-stopped-by-me'], {env: env()})).exitCode).toBe(0)
  }, 90_000)
})
