/**
 * The Docker Engine API service end to end: `ctr-ts system service` as the unprivileged user on a
 * socket in the test's runtime directory, driven by Debian's docker client (client only, no
 * dockerd anywhere): run --rm, run -d -p, ps, logs -f, exec (-it through a pty), cp, inspect -f,
 * stop, rm, wait; docker's error codes and bodies.
 */
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, statSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {waitFor} from '../harness/proc.js'
import {type ApiService, apiRequest, DOCKER, docker, startService, rootWithBusybox, stopAndClean} from '../harness/api-service.js'

let t: TempRoot
let svc: ApiService
let busybox: string
const d = (args: string[], opts: {input?: string; timeoutMs?: number; bin?: string} = {}) => docker(svc, args, opts)

beforeAll(async () => {
  ;({t, busybox} = await rootWithBusybox())
  svc = await startService(t)
}, 120_000)

afterAll(() => stopAndClean(t, svc))

describe('the service', () => {
  it('listens on a 0600 socket in a 0700 directory and answers _ping and version', async () => {
    expect(statSync(svc.socket).mode & 0o777).toBe(0o600)
    expect(statSync(join(t.runRoot, 'api')).mode & 0o777).toBe(0o700)
    const ping = await apiRequest(svc, 'GET', '/_ping')
    expect(ping.status).toBe(200)
    expect(ping.body.toString()).toBe('OK')
    expect(ping.headers['api-version']).toBe('1.41')
    expect(ping.headers['ostype']).toBe('linux')
    const head = await apiRequest(svc, 'HEAD', '/_ping')
    expect(head.status).toBe(200)
    const v = await d(['version', '--format', '{{.Server.APIVersion}} {{.Server.Os}}'])
    expect(v.stderr).toBe('')
    expect(v.stdout.trim()).toBe('1.41 linux')
    const prefixed = await apiRequest(svc, 'GET', '/v1.41/version')
    expect(JSON.parse(prefixed.body.toString()).ApiVersion).toBe('1.41')
  })

  it('answers 501 naming an endpoint it does not implement', async () => {
    const r = await apiRequest(svc, 'POST', '/v1.41/swarm/init', '{}')
    expect(r.status).toBe(501)
    expect(JSON.parse(r.body.toString()).message).toMatch(/POST \/swarm\/init/)
  })
})

describe('docker run', () => {
  it('run --rm prints the output, exits with the code and leaves no container', async () => {
    const r = await d(['run', '--rm', busybox, 'sh', '-c', 'echo hi; echo err >&2; exit 3'])
    expect(r.stdout).toBe('hi\n')
    expect(r.stderr).toBe('err\n')
    expect(r.exitCode).toBe(3)
    expect(await waitFor(async () => (await d(['ps', '-aq'])).stdout.trim() === '', 10_000)).toBe(true)
  })

  it('run -i passes stdin', async () => {
    const r = await d(['run', '--rm', '-i', busybox, 'tr', 'a-z', 'A-Z'], {input: 'quiet\n'})
    expect(r.stdout).toBe('QUIET\n')
    expect(r.exitCode).toBe(0)
  })

  it('run -d -p publishes a port; ps, inspect -f, logs, stop, wait, rm', async () => {
    const r = await d(['run', '-d', '--name', 'web', '-p', '127.0.0.1::8080', '--label', 'tier=front', busybox, 'sh', '-c', 'echo starting; echo hello-http > /tmp/index.html; httpd -f -p 8080 -h /tmp'])
    expect(r.stderr).toBe('')
    const id = r.stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{64}$/)
    const ps = await d(['ps', '--format', '{{.Names}} {{.Status}} {{.Label "tier"}}'])
    expect(ps.stdout).toMatch(/^web Up .* front$/m)
    const port = await d(['inspect', '-f', '{{(index (index .NetworkSettings.Ports "8080/tcp") 0).HostPort}}', 'web'])
    expect(port.stdout.trim()).toMatch(/^\d+$/)
    const body = await waitFor(async () => {
      try {
        const res = await fetch(`http://127.0.0.1:${port.stdout.trim()}/index.html`)
        return (await res.text()) === 'hello-http\n'
      } catch {
        return false
      }
    }, 15_000)
    expect(body).toBe(true)
    const portCmd = await d(['port', 'web'])
    expect(portCmd.stdout).toMatch(/^8080\/tcp -> 127\.0\.0\.1:\d+$/m)
    expect((await d(['inspect', '-f', '{{.State.Running}} {{.Config.Labels.tier}}', 'web'])).stdout.trim()).toBe('true front')
    expect((await d(['logs', 'web'])).stdout).toBe('starting\n')
    const stop = await d(['stop', '-t', '1', 'web'])
    expect(stop.stdout.trim()).toBe('web')
    const wait = await d(['wait', 'web'])
    expect(wait.stdout.trim()).toBe('137')
    expect((await d(['ps', '-a', '--format', '{{.Names}} {{.Status}}'])).stdout).toMatch(/^web Exited \(137\)/m)
    expect((await d(['rm', 'web'])).exitCode).toBe(0)
    expect((await d(['ps', '-aq'])).stdout.trim()).toBe('')
  })

  it('logs -f follows until the container exits; --tail and -t', async () => {
    await d(['run', '-d', '--name', 'counter', busybox, 'sh', '-c', 'for i in 1 2 3 4 5; do echo n$i; sleep 0.3; done'])
    const f = await d(['logs', '-f', 'counter'], {timeoutMs: 30_000})
    expect(f.stdout).toBe('n1\nn2\nn3\nn4\nn5\n')
    const tail = await d(['logs', '--tail', '2', '-t', 'counter'])
    expect(tail.stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+ n4\n\S+ n5\n$/)
    expect((await d(['wait', 'counter'])).stdout.trim()).toBe('0')
    await d(['rm', 'counter'])
  })

  it('exec, exec -i, exec -d, and exit codes', async () => {
    await d(['run', '-d', '--name', 'box', busybox, 'sleep', '1000'])
    const e = await d(['exec', 'box', 'sh', '-c', 'echo out; echo err >&2; exit 5'])
    expect(e.stdout).toBe('out\n')
    expect(e.stderr).toBe('err\n')
    expect(e.exitCode).toBe(5)
    const i = await d(['exec', '-i', 'box', 'tr', 'a-z', 'A-Z'], {input: 'loud\n'})
    expect(i.stdout).toBe('LOUD\n')
    const dd = await d(['exec', '-d', 'box', 'sh', '-c', 'echo bg > /tmp/mark'])
    expect(dd.exitCode).toBe(0)
    expect(await waitFor(async () => (await d(['exec', 'box', 'cat', '/tmp/mark'])).stdout === 'bg\n')).toBe(true)
    const missing = await d(['exec', 'box', 'no-such-command'])
    expect(missing.exitCode).toBe(127)
  })

  it('exec -it runs under a terminal (through a pty)', async () => {
    const quoted = ['exec', '-it', 'box', 'sh', '-c', 'tty; read x; stty size; echo read:$x; exit 3'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    const envs = Object.entries(svc.dockerEnv).map(([k, v]) => `${k}=${v}`).join(' ')
    const child = spawn('script', ['-qec', `stty rows 30 cols 100; env ${envs} ${DOCKER} ${quoted}`, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()))
    child.stderr!.on('data', (b: Buffer) => (out += b.toString()))
    const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)))
    expect(await waitFor(() => /\/dev\/pts\/\d+/.test(out), 15_000), out).toBe(true)
    child.stdin!.write('typed\r')
    expect(await waitFor(() => /read:typed/.test(out), 15_000), out).toBe(true)
    expect(out, JSON.stringify(out)).toMatch(/30 100/)
    expect(await exited).toBe(3)
  })

  it('run -it --rm under a terminal: the container gets the terminal size, input, and its exit code', async () => {
    const quoted = ['run', '-it', '--rm', busybox, 'sh'].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    const envs = Object.entries(svc.dockerEnv).map(([k, v]) => `${k}=${v}`).join(' ')
    const child = spawn('script', ['-qec', `stty rows 30 cols 100; env ${envs} ${DOCKER} ${quoted}`, '/dev/null'], {stdio: ['pipe', 'pipe', 'pipe']})
    let out = ''
    child.stdout!.on('data', (b: Buffer) => (out += b.toString()))
    const exited = new Promise<number>((r) => child.on('close', (c) => r(c ?? -1)))
    try {
      expect(await waitFor(() => /# /.test(out), 20_000), out).toBe(true)
      // the client sends the terminal's size right after the start: give it a moment
      child.stdin!.write('echo hi-$((40+2))\r')
      expect(await waitFor(() => /hi-42/.test(out), 15_000), out).toBe(true)
      // the client sends the terminal's size right after the start (as with dockerd, the first
      // prompt may come before it): the size arrives
      const sized = await waitFor(async () => {
        child.stdin!.write('stty size\r')
        await new Promise((r) => setTimeout(r, 300))
        return /30 100/.test(out)
      }, 15_000)
      expect(sized, JSON.stringify(out)).toBe(true)
      child.stdin!.write('exit 3\r')
      expect(await exited).toBe(3)
    } finally {
      child.kill('SIGKILL')
      await waitFor(async () => (await d(['ps', '-aq'])).stdout.trim() === '', 15_000)
    }
  })

  it('restart, and stats streamed', async () => {
    await d(['run', '-d', '--name', 'again', busybox, 'sleep', '1000'])
    const before = (await d(['inspect', '-f', '{{.State.StartedAt}}', 'again'])).stdout.trim()
    expect((await d(['restart', '-t', '1', 'again'])).exitCode).toBe(0)
    const after = await d(['inspect', '-f', '{{.State.Running}} {{.State.StartedAt}}', 'again'])
    expect(after.stdout.trim()).toMatch(/^true /)
    expect(after.stdout.trim()).not.toBe(`true ${before}`)
    const stream = spawn(DOCKER, ['stats', '--format', '{{.Name}} {{.PIDs}}', 'again'], {env: {...svc.dockerEnv, PATH: process.env.PATH ?? ''}, stdio: ['ignore', 'pipe', 'pipe']})
    let out = ''
    stream.stdout!.on('data', (b: Buffer) => (out += b.toString()))
    expect(await waitFor(() => (out.match(/again 1/g) ?? []).length >= 2, 20_000), out).toBe(true)
    stream.kill('SIGTERM')
    await d(['rm', '-f', 'again'])
  })

  it('cp copies files in and out', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-cp-'))
    writeFileSync(join(dir, 'in.txt'), 'into the box\n')
    const cpIn = await d(['cp', join(dir, 'in.txt'), 'box:/tmp/in.txt'])
    expect(cpIn.stderr).toBe('')
    expect((await d(['exec', 'box', 'cat', '/tmp/in.txt'])).stdout).toBe('into the box\n')
    await d(['exec', 'box', 'sh', '-c', 'mkdir -p /tmp/outdir && echo out-file > /tmp/outdir/f'])
    const cpOut = await d(['cp', 'box:/tmp/outdir', join(dir, 'got')])
    expect(cpOut.stderr).toBe('')
    expect(readFileSync(join(dir, 'got', 'f'), 'utf8')).toBe('out-file\n')
    const missing = await d(['cp', 'box:/nope', join(dir, 'x')])
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toMatch(/No such container:path: box:\/nope/)
  })

  it('top, stats --no-stream, rename, kill, rm -f', async () => {
    const top = await d(['top', 'box'])
    expect(top.stdout).toMatch(/sleep 1000/)
    const stats = await d(['stats', '--no-stream', '--format', '{{.Name}} {{.PIDs}}', 'box'])
    expect(stats.stdout.trim()).toMatch(/^box \d+$/)
    expect((await d(['rename', 'box', 'box2'])).exitCode).toBe(0)
    expect((await d(['kill', 'box2'])).stdout.trim()).toBe('box2')
    expect((await d(['wait', 'box2'])).stdout.trim()).toBe('137')
    expect((await d(['rm', '-f', 'box2'])).exitCode).toBe(0)
  })
})

describe('resize', () => {
  it('a resize from a client that closes at once is applied while the container prints (no lost frame)', async () => {
    // The shim used to drop such a client when output to it failed before it read the frame.
    const r = await d(['run', '-d', '-t', '--name', 'ticker', busybox, 'sh', '-c', 'while :; do echo tick; usleep 2000; done'])
    expect(r.exitCode, r.stderr).toBe(0)
    try {
      for (let i = 0; i < 10; i++) {
        const res = await apiRequest(svc, 'POST', `/v1.41/containers/ticker/resize?h=${20 + i}&w=${60 + i}`)
        expect(res.status).toBe(200)
        const size = await ctr(['exec', 'ticker', 'sh', '-c', 'stty size </proc/1/fd/0'], {env: t.env})
        expect(size.stdout.trim(), size.stderr).toBe(`${20 + i} ${60 + i}`)
      }
    } finally {
      await d(['rm', '-f', 'ticker'])
    }
  })
})

describe('errors', () => {
  it('an unknown container is a 404 with docker message', async () => {
    const r = await apiRequest(svc, 'GET', '/v1.41/containers/nope/json')
    expect(r.status).toBe(404)
    expect(JSON.parse(r.body.toString())).toEqual({message: 'No such container: nope'})
    const cli = await d(['container', 'inspect', 'nope'])
    expect(cli.exitCode).toBe(1)
    expect(cli.stderr).toMatch(/No such (object|container): nope/)
  })

  it('bad JSON is a 400 and creates nothing', async () => {
    const r = await apiRequest(svc, 'POST', '/v1.41/containers/create?name=broken', '{"Image": ')
    expect(r.status).toBe(400)
    expect(JSON.parse(r.body.toString()).message).toMatch(/invalid JSON/)
    expect((await d(['ps', '-aq'])).stdout.trim()).toBe('')
  })

  it('a huge body is a 413 and creates nothing', async () => {
    const big = JSON.stringify({Image: busybox, Env: [`X=${'a'.repeat(5 * 1024 * 1024)}`]})
    const r = await apiRequest(svc, 'POST', '/v1.41/containers/create?name=huge', big)
    expect(r.status).toBe(413)
    expect((await d(['ps', '-aq'])).stdout.trim()).toBe('')
  })

  it('a missing image is a 404 No such image', async () => {
    const r = await apiRequest(svc, 'POST', '/v1.41/containers/create', JSON.stringify({Image: 'no-such-image:1'}))
    expect(r.status).toBe(404)
    expect(JSON.parse(r.body.toString()).message).toBe('No such image: no-such-image:1')
  })

  it('a name in use is a 409', async () => {
    await d(['create', '--name', 'taken', busybox, 'true'])
    const r = await d(['create', '--name', 'taken', busybox, 'true'])
    expect(r.exitCode).not.toBe(0)
    const raw = await apiRequest(svc, 'POST', '/v1.41/containers/create?name=taken', JSON.stringify({Image: busybox}))
    expect(raw.status).toBe(409)
    await d(['rm', 'taken'])
  })

  it('a client that disconnects in the middle of an attach leaves the container running and the service serving', async () => {
    await d(['run', '-d', '--name', 'talker', busybox, 'sh', '-c', 'while true; do echo tick; sleep 0.1; done'])
    const sock = connect(svc.socket)
    await new Promise((r) => sock.once('connect', r))
    sock.write('POST /v1.41/containers/talker/attach?stream=1&stdout=1 HTTP/1.1\r\nHost: docker\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: 0\r\n\r\n')
    let got = ''
    sock.on('data', (b: Buffer) => (got += b.toString('latin1')))
    expect(await waitFor(() => got.includes('tick'), 10_000)).toBe(true)
    expect(got.startsWith('HTTP/1.1 101')).toBe(true)
    sock.destroy()
    await new Promise((r) => setTimeout(r, 500))
    expect((await d(['inspect', '-f', '{{.State.Running}}', 'talker'])).stdout.trim()).toBe('true')
    expect((await d(['rm', '-f', 'talker'])).exitCode).toBe(0)
  })
})

