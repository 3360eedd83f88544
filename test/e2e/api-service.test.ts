/**
 * `ctr-ts system service` as a process: idle exit (--time) that waits for open streams, systemd
 * socket activation, events streamed with filters, and bounded memory with 50 concurrent
 * log and attach streams (RSS measured).
 */
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, readdirSync, readFileSync} from 'node:fs'
import {connect, createServer, type Socket} from 'node:net'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CLI, ctr, REPO_ROOT, type TempRoot} from '../harness/cli.js'
import {waitFor} from '../harness/proc.js'
import {type ApiService, apiRequest, DOCKER, docker, startService, rootWithBusybox, stopAndClean} from '../harness/api-service.js'

let t: TempRoot
let busybox: string

beforeAll(async () => {
  ;({t, busybox} = await rootWithBusybox())
}, 120_000)

afterAll(() => stopAndClean(t, undefined))

const rssKiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0)

describe('lifetime', () => {
  it('exits after --time seconds without requests, not while a stream is open; the socket is removed', async () => {
    const svc = await startService(t, ['--time', '2'])
    try {
      // an open events stream keeps it alive
      const ev = spawn(DOCKER, ['events'], {env: {...svc.dockerEnv, PATH: process.env.PATH ?? ''}, stdio: 'ignore'})
      await new Promise((r) => setTimeout(r, 4000))
      expect(svc.child.exitCode).toBe(null)
      ev.kill('SIGTERM')
      const exited = await waitFor(() => svc.child.exitCode !== null, 15_000)
      expect(exited).toBe(true)
      expect(svc.child.exitCode).toBe(0)
      expect(existsSync(svc.socket)).toBe(false)
    } finally {
      await svc.stop()
    }
  }, 40_000)

  it('listens on tcp:// only when given, with a loud warning', async () => {
    const port = await new Promise<number>((resolve) => {
      const srv = createServer()
      srv.listen(0, '127.0.0.1', () => {
        const p = (srv.address() as {port: number}).port
        srv.close(() => resolve(p))
      })
    })
    const child = spawn(process.execPath, [CLI, 'system', 'service', '--time', '0', `tcp://127.0.0.1:${port}`], {cwd: REPO_ROOT, env: {...process.env, ...t.env}, stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    child.stderr!.on('data', (b: Buffer) => (err += b.toString()))
    try {
      expect(await waitFor(() => /listening on tcp/.test(err), 20_000), err).toBe(true)
      expect(err).toMatch(/^WARNING: .*without TLS or authentication/m)
      const res = await fetch(`http://127.0.0.1:${port}/_ping`)
      expect(await res.text()).toBe('OK')
    } finally {
      child.kill('SIGTERM')
      await new Promise((r) => child.once('close', r))
    }
    // a bad address is one line and exit 1
    const bad = await ctr(['system', 'service', 'http://x'], {env: t.env})
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
  }, 40_000)

  it('works under systemd socket activation (LISTEN_FDS) and exits when idle', async () => {
    const dir = mkdtempSync(join(t.runRoot, 'sa-'))
    const sock = join(dir, 'docker.sock')
    const sa = spawn('systemd-socket-activate', ['-l', sock, '-E', `CTR_TS_ROOT=${t.env.CTR_TS_ROOT}`, '-E', `CTR_TS_RUNROOT=${t.env.CTR_TS_RUNROOT}`, '-E', `HOME=${t.env.HOME}`, process.execPath, CLI, 'system', 'service', '--time', '2'], {cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe']})
    let err = ''
    sa.stderr!.on('data', (b: Buffer) => (err += b.toString()))
    try {
      expect(await waitFor(() => existsSync(sock), 10_000), err).toBe(true)
      const svc = {socket: sock, dockerEnv: {DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: join(t.home, '.docker'), HOME: t.home}} as unknown as ApiService
      const v = await docker(svc, ['version', '--format', '{{.Server.APIVersion}}'])
      expect(v.stderr).toBe('')
      expect(v.stdout.trim()).toBe('1.41')
      const r = await docker(svc, ['run', '--rm', busybox, 'echo', 'activated'])
      expect(r.stdout).toBe('activated\n')
      expect(err).toMatch(/socket activation/)
      // the service exits when idle; systemd-socket-activate would start it again on the next connection
      expect(await waitFor(() => /listening on fd 3/.test(err) && !/system service/.test(childrenOf(sa.pid!)), 15_000)).toBe(true)
    } finally {
      sa.kill('SIGTERM')
    }
  }, 60_000)
})

function childrenOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map((c) => readFileSync(`/proc/${c}/cmdline`, 'utf8').replaceAll('\0', ' '))
      .join('\n')
  } catch {
    return ''
  }
}

describe('streams', () => {
  let svc: ApiService
  beforeAll(async () => {
    svc = await startService(t)
  })
  afterAll(async () => {
    await svc?.stop()
  })

  it('streams events with filters', async () => {
    const ev = spawn(DOCKER, ['events', '--filter', 'type=container', '--filter', 'container=evbox', '--format', '{{.Action}} {{.Actor.Attributes.name}}'], {env: {...svc.dockerEnv, PATH: process.env.PATH ?? ''}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    ev.stdout!.on('data', (b: Buffer) => (out += b.toString()))
    await new Promise((r) => setTimeout(r, 1000))
    await docker(svc, ['run', '--name', 'other', busybox, 'true'])
    await docker(svc, ['run', '--name', 'evbox', busybox, 'true'])
    await docker(svc, ['rm', 'evbox', 'other'])
    expect(await waitFor(() => /destroy evbox/.test(out), 15_000), out).toBe(true)
    ev.kill('SIGTERM')
    const lines = out.trim().split('\n')
    expect(lines).toContain('create evbox')
    expect(lines).toContain('start evbox')
    expect(lines.some((l) => l.startsWith('die evbox'))).toBe(true)
    expect(out).not.toMatch(/other/)
    const since = await apiRequest(svc, 'GET', `/v1.41/events?since=0&until=${Math.floor(Date.now() / 1000) + 1}&filters=${encodeURIComponent(JSON.stringify({container: ['evbox'], event: ['destroy']}))}`)
    expect(since.status).toBe(200)
    const events = since.body.toString().trim().split('\n').map((l) => JSON.parse(l) as {Action: string})
    expect(events.map((e) => e.Action)).toEqual(['destroy'])
  }, 60_000)

  it('memory stays bounded with 50 concurrent log and attach streams; clients leaving free them', async () => {
    await docker(svc, ['run', '-d', '--name', 'chatty', busybox, 'sh', '-c', 'i=0; while true; do echo "line $i $(seq 1 20)"; i=$((i+1)); sleep 0.01; done'])
    await new Promise((r) => setTimeout(r, 1000))
    const pid = svc.child.pid!
    const before = rssKiB(pid)
    const fdsBefore = readdirSync(`/proc/${pid}/fd`).length
    const sockets: Socket[] = []
    let received = 0
    for (let i = 0; i < 50; i++) {
      const s = connect(svc.socket)
      s.on('data', (b: Buffer) => (received += b.length))
      s.on('error', () => undefined)
      const path = i % 2 === 0 ? '/v1.41/containers/chatty/logs?follow=1&stdout=1&stderr=1&tail=10' : '/v1.41/containers/chatty/attach?stream=1&stdout=1&stderr=1'
      const method = i % 2 === 0 ? 'GET' : 'POST'
      const upgrade = i % 2 === 0 ? '' : 'Connection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n'
      s.write(`${method} ${path} HTTP/1.1\r\nHost: docker\r\n${upgrade}\r\n`)
      sockets.push(s)
    }
    // half of them stop reading: their data must not pile up in the service without bound
    for (const s of sockets.slice(0, 10)) s.pause()
    let peak = 0
    for (let i = 0; i < 10; i++) {
      await new Promise((r) => setTimeout(r, 1000))
      peak = Math.max(peak, rssKiB(pid))
    }
    expect(received).toBeGreaterThan(50 * 100)
    // measured: see docs/API.md
    console.log(`service RSS: ${before} KiB before, peak ${peak} KiB with 50 streams`)
    expect(peak - before).toBeLessThan(320 * 1024)
    for (const s of sockets) s.destroy()
    // every stream's connections (to the client, to the container's shim, log watchers) are closed
    expect(await waitFor(() => readdirSync(`/proc/${pid}/fd`).length <= fdsBefore + 3, 10_000), `fds: ${fdsBefore} before, ${readdirSync(`/proc/${pid}/fd`).length} after`).toBe(true)
    // the service still answers and the container still runs
    expect((await docker(svc, ['inspect', '-f', '{{.State.Running}}', 'chatty'])).stdout.trim()).toBe('true')
    await docker(svc, ['rm', '-f', 'chatty'])
  }, 90_000)
})
