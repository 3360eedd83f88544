import {type ChildProcess, spawn} from 'node:child_process'
import type {Socket} from 'node:net'
import type {Readable} from 'node:stream'
import type {PortMapping} from './ports.js'
import {RuntimeError, UsageError} from '../errors.js'
import {SLIRP} from './etc-files.js'

/**
 * The port proxy (shim/ctr-ts-portproxy.c): one per container on the slirp4netns network. It
 * binds the published host ports in the host network namespace and relays connections into the
 * container's; it also anchors slirp4netns' lifetime (slirp4netns' exit fd is the other end of
 * the proxy's fd 3) and exits with the container's init.
 */
export interface PortProxyOptions {
  /** nsenter from util-linux. */
  nsenter: string
  /** shim/build/ctr-ts-portproxy. */
  proxyPath: string
  /** A process in the container's user namespace (the shim). */
  shimPid: number
  /** The container's init, as seen from the host. */
  containerPid: number
  ports: PortMapping[]
  /** Seconds before an idle UDP flow is closed (rounded up to whole seconds). */
  udpIdleTimeout: number
  /** The proxy's stderr (its diagnostics) is written here (truncated at each start). */
  logFd: number
  /** How long to wait for `ready` (default 10 s). */
  timeoutMs?: number
  /** Where connections go (default slirp4netns' 10.0.2.100) and who host-loopback clients appear as (default 10.0.2.2). */
  containerIp?: string
  loopbackAs?: string
  /** Given: the proxy's fd 3 is this socket (it holds it until it exits), and no anchor is made. */
  fd3?: Socket
}

export interface StartedPortProxy {
  pid: number
  /** The publications with the host ports actually bound. */
  ports: PortMapping[]
  /** The CLI's end of the proxy's fd 3: hand it to slirp4netns as its exit fd, then destroy it (none when fd3 was given). */
  anchor: Socket | undefined
}

/** `--publish` value for one mapping: PROTO:HOSTIP:HOSTPORT:CTRPORT (IPv6 host IPs in brackets). */
export function publishArg(p: PortMapping): string {
  const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp
  return `${p.protocol}:${ip}:${p.hostPort}:${p.containerPort}`
}

/** The full argv (after nsenter's path) that starts the proxy inside the container's user namespace. */
export function portProxyArgv(o: Pick<PortProxyOptions, 'proxyPath' | 'shimPid' | 'containerPid' | 'ports' | 'udpIdleTimeout' | 'containerIp' | 'loopbackAs'>): string[] {
  const args = ['--target', String(o.shimPid), '--user', '--preserve-credentials', '--', o.proxyPath, '--pid', String(o.containerPid)]
  for (const p of o.ports) args.push('--publish', publishArg(p))
  // connections go to the container's address, never its loopback; host-loopback clients show as the gateway
  args.push('--container-ip', o.containerIp ?? SLIRP.guest, '--loopback-as', o.loopbackAs ?? SLIRP.gateway)
  args.push('--udp-idle-timeout', String(Math.max(1, Math.ceil(o.udpIdleTimeout))))
  return args
}

export type ProxyReport = {ok: true; ports: PortMapping[]} | {ok: false; error: UsageError | RuntimeError}

/**
 * Interprets the proxy's stdout once it said `ready` or `error ...`: `port PROTO IP HOSTPORT
 * CTRPORT` lines give the actual host ports, in the order of `requested`. Returns undefined while
 * the report is incomplete.
 */
export function parseProxyReport(text: string, requested: PortMapping[]): ProxyReport | undefined {
  const lines = text.split('\n')
  // only complete lines count
  lines.pop()
  const error = lines.find((l) => l.startsWith('error '))
  if (error) {
    const message = error.slice('error '.length)
    const publish = /^(cannot publish \S+): (.*)$/.exec(message)
    if (publish) return {ok: false, error: new UsageError(`${publish[1]}: ${lowerFirst(publish[2]!)}`)}
    return {ok: false, error: new RuntimeError(`port proxy: ${message}`)}
  }
  if (!lines.includes('ready')) return undefined
  const reported = lines.filter((l) => l.startsWith('port ')).map((l) => l.split(' '))
  if (reported.length !== requested.length) {
    return {ok: false, error: new RuntimeError(`port proxy reported ${reported.length} ports for ${requested.length} publications`)}
  }
  const ports = requested.map((p, i) => {
    const hostPort = Number(reported[i]![3])
    return {...p, hostPort}
  })
  const bad = ports.find((p) => !Number.isInteger(p.hostPort) || p.hostPort < 1 || p.hostPort > 65535)
  if (bad) return {ok: false, error: new RuntimeError(`port proxy reported an invalid port for ${publishArg(bad)}`)}
  return {ok: true, ports}
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1)
}

/**
 * Collects a stream's text until `done` returns a value; rejects on EOF, error or timeout.
 * Event driven: no polling, no sleeps.
 */
export function readUntil<T>(stream: Readable, done: (text: string) => T | undefined, timeoutMs: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let text = ''
    const finish = (fn: () => void) => {
      clearTimeout(timer)
      stream.off('data', onData)
      stream.off('end', onEnd)
      stream.off('close', onEnd)
      stream.off('error', onError)
      fn()
    }
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString()
      const result = done(text)
      if (result !== undefined) finish(() => resolve(result))
    }
    const onEnd = () => finish(() => reject(new RuntimeError(`${what} exited before it was ready`)))
    const onError = (err: Error) => finish(() => reject(new RuntimeError(`${what}: ${err.message}`, {cause: err})))
    const timer = setTimeout(() => finish(() => reject(new RuntimeError(`${what} was not ready within ${timeoutMs / 1000} s`))), timeoutMs)
    stream.on('data', onData)
    stream.once('end', onEnd)
    stream.once('close', onEnd)
    stream.once('error', onError)
  })
}

/** Starts the proxy (detached, in its own session) and waits until it bound every port. */
export async function startPortProxy(o: PortProxyOptions): Promise<StartedPortProxy> {
  const child = spawnDetached(o.nsenter, portProxyArgv(o), ['ignore', 'pipe', o.logFd, o.fd3 ?? 'pipe'])
  const pid = child.pid
  const stdout = child.stdout
  const anchor = o.fd3 ? undefined : (child.stdio[3] as Socket | null)
  if (pid === undefined || !stdout || anchor === null) {
    stdout?.destroy()
    anchor?.destroy()
    throw new RuntimeError(`cannot start ${o.proxyPath}`)
  }
  try {
    const report = await readUntil(stdout, (text) => parseProxyReport(text, o.ports), o.timeoutMs ?? 10_000, 'the port proxy')
    if (!report.ok) throw report.error
    stdout.destroy()
    child.unref()
    return {pid, ports: report.ports, anchor}
  } catch (err) {
    stdout.destroy()
    anchor?.destroy()
    killQuietly(pid)
    throw err
  }
}

/**
 * Starts a helper that outlives the CLI (the port proxy, slirp4netns): detached in its own
 * session, its stdio exactly the given fds, sockets, 'pipe's and 'ignore's, so nothing of it runs
 * through this process once the CLI exits. Node's own spawn, not execa: execa's point is a
 * promise of the result with buffered output and the child killed when the parent exits, and a
 * detached helper wants none of that (it is never awaited, its output goes to a log file, it
 * must survive the CLI), so using it meant switching all of it off through cast options.
 * A failure to start (ENOENT) leaves `pid` undefined; its 'error' event is consumed here.
 */
export function spawnDetached(file: string, args: string[], stdio: Array<'ignore' | 'pipe' | number | Socket>): ChildProcess {
  const child = spawn(file, args, {stdio, detached: true})
  child.once('error', () => undefined)
  return child
}

/** SIGKILL, ignoring a process that is already gone. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already exited
  }
}
