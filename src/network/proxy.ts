import type {Socket} from 'node:net'
import type {Readable} from 'node:stream'
import type {PortMapping} from './port-mapping.js'
import {RuntimeError, UsageError} from '../errors.js'

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
}

export interface StartedPortProxy {
  pid: number
  /** The publications with the host ports actually bound. */
  ports: PortMapping[]
  /** The CLI's end of the proxy's fd 3: hand it to slirp4netns as its exit fd, then destroy it. */
  anchor: Socket
}

/** `--publish` value for one mapping: PROTO:HOSTIP:HOSTPORT:CTRPORT (IPv6 host IPs in brackets). */
export function publishArg(p: PortMapping): string {
  const ip = p.hostIp.includes(':') ? `[${p.hostIp}]` : p.hostIp
  return `${p.protocol}:${ip}:${p.hostPort}:${p.containerPort}`
}

/** The full argv (after nsenter's path) that starts the proxy inside the container's user namespace. */
export function portProxyArgv(o: Pick<PortProxyOptions, 'proxyPath' | 'shimPid' | 'containerPid' | 'ports' | 'udpIdleTimeout'>): string[] {
  const args = ['--target', String(o.shimPid), '--user', '--preserve-credentials', '--', o.proxyPath, '--pid', String(o.containerPid)]
  for (const p of o.ports) args.push('--publish', publishArg(p))
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
  const {execa} = await import('execa')
  const child = execa(o.nsenter, portProxyArgv(o), {
    stdio: nativeStdio(['ignore', 'pipe', o.logFd, 'pipe']),
    detached: true,
    cleanup: false,
    buffer: false,
    reject: false,
    stripFinalNewline: false,
  })
  // The result is never awaited (the proxy outlives the CLI); with reject:false it cannot reject.
  void child.catch(() => undefined)
  const pid = child.pid
  const stdout = child.stdout
  const anchor = child.stdio[3] as Socket | null
  if (pid === undefined || !stdout || !anchor) {
    stdout?.destroy()
    anchor?.destroy()
    throw new RuntimeError(`cannot start ${o.proxyPath}`)
  }
  try {
    const report = await readUntil(stdout, (text) => parseProxyReport(text, o.ports), o.timeoutMs ?? 10_000, 'the port proxy')
    if (!report.ok) throw report.error
    stdout.destroy()
    child.nodeChildProcess.unref()
    return {pid, ports: report.ports, anchor}
  } catch (err) {
    stdout.destroy()
    anchor.destroy()
    killQuietly(pid)
    throw err
  }
}

/**
 * A stdio array handed to child_process as is: open fds (any number), net sockets, 'pipe',
 * 'ignore'. execa forwards such values natively (no piping through this process, so the child
 * keeps working after the CLI exits), but its types only list fds 1..9 for outputs: the array is
 * typed as all pipes, which is what execa's typing needs to expose `stdio[n]` streams.
 */
type NativeItem = 'ignore' | 'pipe' | number | Socket
type Piped4 = readonly ['ignore', 'pipe', 'pipe', 'pipe']
type Piped5 = readonly ['ignore', 'pipe', 'pipe', 'pipe', 'pipe']
export function nativeStdio(items: [NativeItem, NativeItem, NativeItem, NativeItem]): Piped4
export function nativeStdio(items: [NativeItem, NativeItem, NativeItem, NativeItem, NativeItem]): Piped5
export function nativeStdio(items: NativeItem[]): Piped4 | Piped5 {
  return items as unknown as Piped4 | Piped5
}

/** SIGKILL, ignoring a process that is already gone. */
export function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL')
  } catch {
    // already exited
  }
}
