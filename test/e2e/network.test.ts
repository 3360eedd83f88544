/**
 * Rootless networking end to end, through the real binary as the unprivileged user: slirp4netns
 * gives containers their network, ctr-ts-portproxy publishes ports on the host. Real sockets on
 * the loopback interface only.
 */
import {execFileSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {createSocket} from 'node:dgram'
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {createServer as createHttpServer, type Server} from 'node:http'
import {connect, createServer as createTcpServer} from 'node:net'
import {networkInterfaces, tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, defaultTestConfig, removeTree, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {commandOf, running, waitFor} from '../harness/proc.js'
import {freePort} from '../harness/registry.js'

let t: TempRoot
let web: string
let busybox: string
/** A directory with static test servers: UDP echo (busybox-static's nc has no UDP mode) and tcpserv. */
let tools: string
const env = () => t.env

const UDP_ECHO_C = `
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>
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
		if (n == 6 && memcmp(buf, "whoami", 6) == 0) {
			struct sockaddr_in *p = (struct sockaddr_in *)&from;
			n = snprintf(buf, sizeof buf, "%s %d", inet_ntoa(p->sin_addr), ntohs(p->sin_port));
		}
		if (n >= 0) sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, len);
	}
}
`

/**
 * A TCP server for the relay tests, one forked child per connection; the first line a client
 * sends picks what it does:
 *   echo       reads until EOF (the client's half-close), then sends everything back and closes
 *   blast N    sends N pattern bytes (0: without end), then closes
 *   reset N    sends up to N pattern bytes (until the peer stops taking them), waits until the
 *              unacknowledged count stops changing, prints `acked A` on stdout, then resets
 *   whoami     sends the client's address as the server sees it: "A.B.C.D PORT\n"
 * Pattern byte i: (i * 7 + (i >> 12)) & 255. A second argument binds the server to that address.
 */
const TCP_SERV_C = `
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/sockios.h>
#include <poll.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
static void put(int fd, const unsigned char *b, size_t n) {
	while (n) { ssize_t w = write(fd, b, n); if (w <= 0) _exit(1); b += w; n -= (size_t)w; }
}
static void pattern(int fd, unsigned long long total) {
	static unsigned char b[65536];
	for (unsigned long long off = 0; total == 0 || off < total; off += sizeof b) {
		size_t n = total && total - off < sizeof b ? (size_t)(total - off) : sizeof b;
		for (size_t i = 0; i < n; i++) b[i] = (unsigned char)((off + i) * 7 + ((off + i) >> 12));
		put(fd, b, n);
	}
}
static void serve(int c) {
	char line[64];
	size_t n = 0;
	while (n < sizeof line - 1 && read(c, line + n, 1) == 1 && line[n] != '\\n') n++;
	line[n] = 0;
	if (strcmp(line, "whoami") == 0) {
		struct sockaddr_in p;
		socklen_t len = sizeof p;
		if (getpeername(c, (struct sockaddr *)&p, &len) < 0) _exit(1);
		char out[64];
		int n = snprintf(out, sizeof out, "%s %d\\n", inet_ntoa(p.sin_addr), ntohs(p.sin_port));
		put(c, (unsigned char *)out, (size_t)n);
	} else if (strcmp(line, "echo") == 0) {
		size_t cap = 1 << 20, len = 0;
		unsigned char *buf = malloc(cap);
		for (;;) {
			if (len == cap && !(buf = realloc(buf, cap *= 2))) _exit(1);
			ssize_t r = read(c, buf + len, cap - len);
			if (r < 0) _exit(1);
			if (r == 0) break;
			len += (size_t)r;
		}
		put(c, buf, len);
	} else if (strncmp(line, "blast ", 6) == 0) {
		pattern(c, strtoull(line + 6, NULL, 10));
	} else if (strncmp(line, "reset ", 6) == 0) {
		unsigned long long total = strtoull(line + 6, NULL, 10), sent = 0;
		static unsigned char b[65536];
		fcntl(c, F_SETFL, O_NONBLOCK);
		while (sent < total) {
			size_t n = total - sent < sizeof b ? (size_t)(total - sent) : sizeof b;
			for (size_t i = 0; i < n; i++) b[i] = (unsigned char)((sent + i) * 7 + ((sent + i) >> 12));
			ssize_t w = write(c, b, n);
			if (w > 0) { sent += (unsigned long long)w; continue; }
			struct pollfd p = {.fd = c, .events = POLLOUT};
			if (poll(&p, 1, 500) <= 0) break;
		}
		int unacked = -1, last;
		do {
			last = unacked;
			usleep(300000);
			if (ioctl(c, SIOCOUTQ, &unacked) < 0) _exit(1);
		} while (unacked != last && unacked != 0);
		printf("acked %llu\\n", sent - (unsigned long long)unacked);
		fflush(stdout);
		struct linger l = {1, 0};
		setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
	}
	close(c);
}
int main(int argc, char **argv) {
	signal(SIGPIPE, SIG_IGN);
	signal(SIGCHLD, SIG_IGN);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(atoi(argc > 1 ? argv[1] : "7000"))};
	if (argc > 2) inet_pton(AF_INET, argv[2], &a.sin_addr);
	int one = 1, l = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (l < 0 || bind(l, (struct sockaddr *)&a, sizeof a) < 0 || listen(l, 128) < 0) { perror("tcpserv"); return 1; }
	for (;;) {
		int c = accept(l, NULL, NULL);
		if (c < 0) continue;
		if (fork() == 0) { close(l); serve(c); _exit(0); }
		close(c);
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
  writeFileSync(join(tools, 'tcpserv.c'), TCP_SERV_C)
  execFileSync('cc', ['-static', '-O2', '-o', join(tools, 'tcpserv'), join(tools, 'tcpserv.c')])
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
  if (tools) await removeTree(tools)
})

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

/** Asks tcpserv who it sees: connects from `from` (a host address) and returns its answer and our own port. */
function tcpWhoami(port: number, from = '127.0.0.1'): Promise<{seen: string; localPort: number} | undefined> {
  return new Promise((resolve) => {
    const sock = connect({host: from, port, localAddress: from})
    let data = ''
    let localPort = 0
    sock.setEncoding('utf8')
    sock.setTimeout(3000, () => sock.destroy())
    sock.on('connect', () => {
      localPort = sock.localPort ?? 0
      sock.write('whoami\n')
    })
    sock.on('data', (d: string) => (data += d))
    sock.on('end', () => resolve(data ? {seen: data.trim(), localPort} : undefined))
    sock.on('error', () => resolve(undefined))
    sock.on('close', () => resolve(data ? {seen: data.trim(), localPort} : undefined))
  })
}

/** A non-loopback IPv4 address of this machine (clients from it are not local to the container either). */
function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  return undefined
}

/** Pattern byte i of tcpserv's blast and reset: (i * 7 + (i >> 12)) & 255. */
function isPattern(buf: Buffer): boolean {
  for (let i = 0; i < buf.length; i++) if (buf[i] !== ((i * 7 + (i >> 12)) & 255)) return false
  return true
}

interface Exchange {
  /** Every byte received until the end or the error. */
  received: Buffer
  /** Whether the stream ended with the peer's FIN (not an error). */
  ended: boolean
  error?: string
}

/**
 * Connects to 127.0.0.1:port, sends `request` (then half-closes unless `keepOpen`) and collects
 * what comes back. `pauseMs`: read nothing for that long after connecting. `resetAfter`: reset
 * the connection once that many bytes arrived.
 */
function exchange(port: number, request: Buffer, o: {keepOpen?: boolean; pauseMs?: number; resetAfter?: number; timeoutMs?: number} = {}): Promise<Exchange> {
  return new Promise((resolve) => {
    const sock = connect({host: '127.0.0.1', port})
    const chunks: Buffer[] = []
    let got = 0
    let settled = false
    const finish = (ended: boolean, error?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      resolve({received: Buffer.concat(chunks), ended, error})
    }
    const timer = setTimeout(() => {
      sock.destroy()
      finish(false, 'timeout')
    }, o.timeoutMs ?? 30_000)
    sock.on('connect', () => {
      if (o.pauseMs) {
        sock.pause()
        setTimeout(() => sock.resume(), o.pauseMs)
      }
      if (o.keepOpen) sock.write(request)
      else sock.end(request)
    })
    sock.on('data', (d: Buffer) => {
      chunks.push(d)
      got += d.length
      if (o.resetAfter !== undefined && got >= o.resetAfter) {
        sock.resetAndDestroy()
        finish(false, 'reset by us')
      }
    })
    sock.on('end', () => finish(true))
    sock.on('error', (err) => finish(false, err.message))
    sock.on('close', () => finish(false, 'closed'))
  })
}

interface State {
  helperPids?: number[]
  ports?: Array<{hostIp: string; hostPort: number; containerPort: number; protocol: string}>
}

function readState(id: string): State {
  return JSON.parse(readFileSync(join(t.root, 'containers', id, 'state.json'), 'utf8')) as State
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
    // an idle proxy with one publication: stdin, stdout, stderr, the exit anchor, signalfd, pidfd, epoll, the listener
    const idle = 8
    expect(await waitFor(() => fdCount() === idle)).toBe(true)
    // busybox httpd listens with a backlog of 9: beyond it the kernel drops SYNs and clients
    // retry after 1 s, 3 s, 7 s; hence the generous timeout.
    const bodies = await Promise.all(Array.from({length: 100}, () => httpBody(port, '/index.html', 30_000)))
    expect(bodies.filter((b) => b !== 'hello from ctr-ts\n')).toEqual([])
    // every connection's two sockets are closed once it is done
    expect(await waitFor(() => fdCount() === idle)).toBe(true)
    expect((await ctr(['rm', '-f', id], {env: env()})).exitCode).toBe(0)
  })

  describe('TCP relay', () => {
    let id: string
    let port: number
    let fdCount: () => number
    // an idle proxy with one publication: stdin, stdout, stderr, the exit anchor, signalfd, pidfd, epoll, the listener
    const idle = 8
    beforeAll(async () => {
      port = await freePort()
      const started = await ctr(['run', '-d', '-v', `${tools}:/tools:ro`, '-p', `127.0.0.1:${port}:7000`, busybox, '/tools/tcpserv', '7000'], {env: env()})
      expect(started.stderr).toBe('')
      expect(started.exitCode).toBe(0)
      id = started.stdout.trim()
      const ready = await waitFor(async () => (await exchange(port, Buffer.from('blast 5\n'), {timeoutMs: 2000})).received.length === 5)
      expect(ready).toBe(true)
      const proxy = readState(id).helperPids![0]!
      fdCount = () => readdirSync(`/proc/${proxy}/fd`).length
    }, 60_000)
    afterAll(async () => {
      if (id) await ctr(['rm', '-f', id], {env: env()})
    })

    it('relays big transfers both ways across a half-close, several at once, and keeps no socket or pipe after', async () => {
      const payloads = Array.from({length: 6}, (_, i) => randomBytes((i + 1) * 3 * 1024 * 1024))
      // the server answers only after the client's EOF came through the proxy as a half-close
      const results = await Promise.all(payloads.map((p) => exchange(port, Buffer.concat([Buffer.from('echo\n'), p]), {timeoutMs: 60_000})))
      for (const [i, r] of results.entries()) {
        expect(r.error).toBeUndefined()
        expect(r.ended).toBe(true)
        expect(r.received.length).toBe(payloads[i]!.length)
        expect(r.received.equals(payloads[i]!)).toBe(true)
      }
      expect(await waitFor(() => fdCount() === idle)).toBe(true)
    }, 90_000)

    it('delivers what the container sent before it reset the connection, then ends cleanly', async () => {
      // the client reads nothing for 4 s: everything in between fills up (the proxy's pipe too) and
      // the reset reaches the proxy while the bytes the container's socket saw acknowledged are
      // still on their way
      const r = await exchange(port, Buffer.from(`reset ${64 * 1024 * 1024}\n`), {keepOpen: true, pauseMs: 4000})
      expect(r.error).toBeUndefined()
      expect(r.ended).toBe(true)
      const logs = await ctr(['logs', id], {env: env()})
      const acked = Number(/acked (\d+)/.exec(logs.stdout)?.[1])
      expect(acked).toBeGreaterThan(1024 * 1024)
      expect(r.received.length).toBeGreaterThanOrEqual(acked)
      expect(isPattern(r.received)).toBe(true)
      expect(await waitFor(() => fdCount() === idle)).toBe(true)
    })

    it('passes a client reset mid-transfer on and frees the connection', async () => {
      const resets = await Promise.all(
        Array.from({length: 4}, () => exchange(port, Buffer.from('blast 0\n'), {keepOpen: true, resetAfter: 8 * 1024 * 1024})),
      )
      for (const r of resets) {
        expect(r.error).toBe('reset by us')
        expect(isPattern(r.received)).toBe(true)
      }
      expect(await waitFor(() => fdCount() === idle)).toBe(true)
      const after = await exchange(port, Buffer.from('blast 1000\n'))
      expect(after.ended).toBe(true)
      expect(isPattern(after.received) && after.received.length === 1000).toBe(true)
    })
  })

  describe('published ports and the container\'s loopback', () => {
    // docker and podman (CVE-2021-20199) connect to the container's own address: a service that
    // listens only on 127.0.0.1 inside stays private, and no client looks local to the container
    let id: string
    let port: number
    let udpPort: number
    let udpId: string
    beforeAll(async () => {
      port = await freePort()
      const started = await ctr(['run', '-d', '-v', `${tools}:/tools:ro`, '-p', `${port}:7000`, busybox, '/tools/tcpserv', '7000'], {env: env()})
      expect(started.exitCode, started.stderr).toBe(0)
      id = started.stdout.trim()
      expect(await waitFor(async () => (await tcpWhoami(port)) !== undefined)).toBe(true)
      udpPort = await freePort()
      const udp = await ctr(['run', '-d', '-v', `${tools}:/tools:ro`, '-p', `127.0.0.1:${udpPort}:9999/udp`, busybox, '/tools/udpecho', '9999'], {env: env()})
      expect(udp.exitCode, udp.stderr).toBe(0)
      udpId = udp.stdout.trim()
    }, 60_000)
    afterAll(async () => {
      await ctr(['rm', '-f', id, udpId], {env: env()})
    })

    it('does not serve a service that listens only on the container\'s 127.0.0.1', async () => {
      const p = await freePort()
      const started = await ctr(['run', '-d', '-v', `${tools}:/tools:ro`, '-p', `127.0.0.1:${p}:7000`, busybox, 'sh', '-c', '/tools/tcpserv 7000 127.0.0.1 & /tools/tcpserv 7001 & wait'], {
        env: env(),
      })
      expect(started.exitCode, started.stderr).toBe(0)
      const lid = started.stdout.trim()
      try {
        // the same container serves 7001 on every address: wait until it is up, through exec
        const up = await waitFor(async () => (await ctr(['exec', lid, 'sh', '-c', 'netstat -ltn | grep -q ":7000 "'], {env: env()})).exitCode === 0)
        expect(up).toBe(true)
        const r = await exchange(p, Buffer.from('blast 5\n'), {timeoutMs: 3000})
        expect(r.received.length).toBe(0)
        expect(r.ended && r.received.length > 0).toBe(false)
      } finally {
        await ctr(['rm', '-f', lid], {env: env()})
      }
    })

    it('shows a client on the host\'s loopback as the host gateway 10.0.2.2, with its real port', async () => {
      const r = await tcpWhoami(port)
      expect(r).toBeDefined()
      expect(r!.seen).toBe(`10.0.2.2 ${r!.localPort}`)
    })

    it('shows a client from another host address with its real address and port', async () => {
      const address = hostAddress()
      expect(address, 'this machine needs a non-loopback IPv4 address for this test').toBeDefined()
      const r = await tcpWhoami(port, address)
      expect(r).toBeDefined()
      expect(r!.seen).toBe(`${address} ${r!.localPort}`)
    })

    it('shows UDP clients with their real port, loopback ones as 10.0.2.2', async () => {
      const sock = createSocket('udp4')
      await new Promise<void>((resolve) => sock.bind(0, '127.0.0.1', () => resolve()))
      const local = sock.address().port
      const reply = await waitFor(async () => {
        const got = await new Promise<string | undefined>((resolve) => {
          const timer = setTimeout(() => resolve(undefined), 500)
          sock.once('message', (m) => {
            clearTimeout(timer)
            resolve(m.toString())
          })
          sock.send('whoami', udpPort, '127.0.0.1')
        })
        if (got !== undefined) expect(got).toBe(`10.0.2.2 ${local}`)
        return got !== undefined
      })
      sock.close()
      expect(reply).toBe(true)
    })
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

    it("is reachable when allowed by podman's flag --network slirp4netns:allow_host_loopback=true", async () => {
      t.writeConfig(defaultTestConfig())
      const net = 'slirp4netns:allow_host_loopback=true'
      const r = await ctr(['run', '--rm', '--network', net, busybox, 'wget', '-q', '-O', '-', `http://host.containers.internal:${port}/`], {env: env()})
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe('from the host\n')
    })
  })
})
