/**
 * Rootless networking end to end, through the real binary as the unprivileged user: slirp4netns
 * gives containers their network, ctr-ts-portproxy publishes ports on the host. Real sockets on
 * the loopback interface only.
 */
import {execFileSync} from 'node:child_process'
import {createSocket} from 'node:dgram'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer, type Server} from 'node:http'
import {connect, createServer as createTcpServer} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, defaultTestConfig, removeTree, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {freePort} from '../harness/registry.js'

let t: TempRoot
let web: string
let busybox: string
/** A directory with a static UDP echo server (busybox-static's nc has no UDP mode). */
let tools: string
const env = () => t.env

const UDP_ECHO_C = `
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
int main(int argc, char **argv) {
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argc > 1 ? argv[1] : "9999"))};
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) < 0) { perror("udpecho"); return 1; }
	for (;;) {
		char buf[65536];
		struct sockaddr_storage from;
		socklen_t len = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &len);
		if (n >= 0) sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
}
`

beforeAll(async () => {
  t = tempRoot()
  web = testEnv().fixtures.web!.ref
  busybox = testEnv().fixtures.busybox!.ref
  for (const ref of [web, busybox]) {
    const pulled = await ctr(['pull', '-q', ref], {env: env()})
    expect(pulled.stderr).toBe('')
    expect(pulled.exitCode).toBe(0)
  }
  tools = mkdtempSync(join(tmpdir(), 'ctr-ts-nettools-'))
  writeFileSync(join(tools, 'udpecho.c'), UDP_ECHO_C)
  execFileSync('cc', ['-static', '-O2', '-o', join(tools, 'udpecho'), join(tools, 'udpecho.c')])
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
  if (tools) await removeTree(tools)
})

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

/** GET over plain HTTP/1.0 with a raw socket (no keep-alive, no proxy settings from the environment). */
function httpGet(port: number, path: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({host: '127.0.0.1', port})
    let data = ''
    sock.setEncoding('utf8')
    sock.setTimeout(timeoutMs, () => sock.destroy(new Error('timeout')))
    sock.on('connect', () => sock.write(`GET ${path} HTTP/1.0\r\nHost: x\r\n\r\n`))
    sock.on('data', (d: string) => (data += d))
    sock.on('end', () => resolve(data))
    sock.on('error', reject)
  })
}

async function httpBody(port: number, path: string, timeoutMs?: number): Promise<string | undefined> {
  try {
    const res = await httpGet(port, path, timeoutMs)
    const i = res.indexOf('\r\n\r\n')
    return res.startsWith('HTTP/1.') && i >= 0 ? res.slice(i + 4) : undefined
  } catch {
    return undefined
  }
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = connect({host: '127.0.0.1', port})
    sock.on('connect', () => {
      sock.destroy()
      resolve(true)
    })
    sock.on('error', () => resolve(false))
  })
}

/** Sends one datagram and waits for the reply (undefined after timeoutMs). */
function udpRoundTrip(port: number, message: string, timeoutMs = 1000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = createSocket('udp4')
    const timer = setTimeout(() => {
      sock.close()
      resolve(undefined)
    }, timeoutMs)
    sock.on('message', (msg) => {
      clearTimeout(timer)
      sock.close()
      resolve(msg.toString())
    })
    sock.on('error', () => undefined)
    sock.send(message, port, '127.0.0.1')
  })
}

interface State {
  helperPids?: number[]
  ports?: Array<{hostIp: string; hostPort: number; containerPort: number; protocol: string}>
}

function readState(id: string): State {
  return JSON.parse(readFileSync(join(t.root, 'containers', id, 'state.json'), 'utf8')) as State
}

/** Alive and not a zombie (an exited child of an init that does not reap is not running). */
function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
  } catch {
    return ''
  }
}

describe('network', () => {
  it('publishes a TCP port on a host address and cleans up after rm -f', async () => {
    const port = await freePort()
    const started = await ctr(['run', '-d', '-p', `127.0.0.1:${port}:80`, web], {env: env()})
    expect(started.stderr).toBe('')
    expect(started.exitCode).toBe(0)
    const id = started.stdout.trim()
    let body: string | undefined
    expect(await waitFor(async () => (body = await httpBody(port, '/index.html')) !== undefined)).toBe(true)
    expect(body).toBe('hello from ctr-ts\n')

    const helpers = readState(id).helperPids ?? []
    expect(helpers).toHaveLength(2)
    expect(commandOf(helpers[0]!)).toContain('ctr-ts-portproxy')
    expect(commandOf(helpers[1]!)).toContain('slirp4netns')
    expect(helpers.every(running)).toBe(true)

    expect((await ctr(['rm', '-f', id], {env: env()})).exitCode).toBe(0)
    expect(await waitFor(() => !helpers.some(running))).toBe(true)
    expect(await accepts(port)).toBe(false)
  })

  it('publishes exposed ports on free host ports with -P, and relays 100 parallel connections without leaking fds', async () => {
    const started = await ctr(['run', '-d', '-P', web], {env: env()})
    expect(started.stderr).toBe('')
    expect(started.exitCode).toBe(0)
    const id = started.stdout.trim()
    const ports = readState(id).ports ?? []
    expect(ports).toHaveLength(1)
    expect(ports[0]!.containerPort).toBe(80)
    const port = ports[0]!.hostPort
    expect(port).toBeGreaterThan(0)
    expect(await waitFor(async () => (await httpBody(port, '/index.html')) !== undefined)).toBe(true)

    const proxy = readState(id).helperPids![0]!
    const fdCount = () => readdirSync(`/proc/${proxy}/fd`).length
    // an idle proxy with one publication: stdin, stdout, stderr, the exit anchor, signalfd, pidfd, the listener
    const idle = 7
    expect(await waitFor(() => fdCount() === idle)).toBe(true)
    // busybox httpd listens with a backlog of 9: beyond it the kernel drops SYNs and clients
    // retry after 1 s, 3 s, 7 s; hence the generous timeout.
    const bodies = await Promise.all(Array.from({length: 100}, () => httpBody(port, '/index.html', 30_000)))
    expect(bodies.filter((b) => b !== 'hello from ctr-ts\n')).toEqual([])
    // every connection's two sockets are closed once it is done
    expect(await waitFor(() => fdCount() === idle)).toBe(true)
    expect((await ctr(['rm', '-f', id], {env: env()})).exitCode).toBe(0)
  })

  it('publishes a UDP port', async () => {
    const port = await freePort()
    const started = await ctr(['run', '-d', '-v', `${tools}:/tools:ro`, '-p', `127.0.0.1:${port}:9999/udp`, busybox, '/tools/udpecho', '9999'], {
      env: env(),
    })
    expect(started.stderr).toBe('')
    expect(started.exitCode).toBe(0)
    const id = started.stdout.trim()
    let reply: string | undefined
    expect(await waitFor(async () => (reply = await udpRoundTrip(port, 'ping over udp')) !== undefined)).toBe(true)
    expect(reply).toBe('ping over udp')
    expect(await udpRoundTrip(port, 'second')).toBe('second')
    expect((await ctr(['rm', '-f', id], {env: env()})).exitCode).toBe(0)
  })

  it('reports a taken host port clearly and leaves nothing running', async () => {
    const blocker = createTcpServer()
    const port = await new Promise<number>((resolve) => blocker.listen(0, '0.0.0.0', () => resolve((blocker.address() as {port: number}).port)))
    try {
      const r = await ctr(['run', '-d', '--name', 'taken', '-p', `${port}:80`, web], {env: env()})
      expect(r.exitCode).toBe(125)
      expect(r.stderr).toContain(`cannot publish 0.0.0.0:${port}/tcp: address already in use`)
      const ps = await ctr(['ps'], {env: env()})
      expect(ps.stdout).not.toMatch(/\btaken\b/)
      const stray = execFileSync('ps', ['-u', String(process.getuid!()), '-o', 'pid=,stat=,args='], {encoding: 'utf8'})
        .split('\n')
        .filter((l) => l.includes(`:${port}:80`) && !/^\s*\d+\s+Z/.test(l))
      expect(stray).toEqual([])
    } finally {
      blocker.close()
      await ctr(['rm', '-f', 'taken'], {env: env()})
    }
  })

  it('gives slirp4netns containers tap0 with a default route, and names in /etc/hosts', async () => {
    const r = await ctr(['run', '--rm', '--name', 'named', '--hostname', 'box', busybox, 'sh', '-c', 'cat /proc/net/dev; ip route; cat /etc/hosts'], {
      env: env(),
    })
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toMatch(/^\s*tap0:/m)
    expect(r.stdout).toMatch(/^default via 10\.0\.2\.2 dev tap0/m)
    expect(r.stdout).toMatch(/^10\.0\.2\.100\s+box named$/m)
    expect(r.stdout).not.toContain('host.containers.internal')
  })

  it('gives --network none only the loopback interface', async () => {
    const r = await ctr(['run', '--rm', '--network', 'none', busybox, 'sh', '-c', 'tail -n +3 /proc/net/dev | cut -d: -f1'], {env: env()})
    expect(r.exitCode).toBe(0)
    expect(r.stdout.split('\n').map((l) => l.trim()).filter(Boolean)).toEqual(['lo'])
  })

  describe('host loopback', () => {
    let server: Server
    let port: number
    beforeAll(async () => {
      server = createHttpServer((_req, res) => res.end('from the host\n'))
      port = await new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as {port: number}).port)))
    })
    afterAll(() => {
      server.close()
      t.writeConfig(defaultTestConfig())
    })

    it('is refused by default', async () => {
      t.writeConfig(defaultTestConfig())
      const r = await ctr(['run', '--rm', busybox, 'sh', '-c', `wget -q -O - http://10.0.2.2:${port}/; echo rc=$?`], {env: env()})
      expect(r.stdout, r.stderr).not.toContain('from the host')
      expect(r.stdout, r.stderr).toMatch(/rc=[1-9]/)
      expect(r.stderr).toMatch(/Network is unreachable|Connection refused/)
    })

    it('is reachable at 10.0.2.2 (host.containers.internal) when allowed', async () => {
      t.writeConfig({...defaultTestConfig(), network: {allowHostLoopback: true}})
      const r = await ctr(['run', '--rm', busybox, 'sh', '-c', `wget -q -O - http://10.0.2.2:${port}/ && grep host.containers.internal /etc/hosts`], {
        env: env(),
      })
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toMatch(/^from the host\n10\.0\.2\.2\s+host\.containers\.internal/)
    })
  })
})
