/**
 * The Docker Engine API service: node:http on a unix socket (or a socket systemd passed, or an
 * explicit tcp:// address), every request routed by ApiRouter, `Upgrade: tcp` requests (attach,
 * exec start) handed to the same routes with their raw connection. Tracks what is in flight so
 * `system service --time` can exit after a quiet period.
 */
import {createServer, type IncomingMessage, type Server, ServerResponse} from 'node:http'
import {connect, type Socket} from 'node:net'
import {chmodSync, lstatSync, unlinkSync} from 'node:fs'
import {dirname} from 'node:path'
import type {Duplex} from 'node:stream'
import type {Context} from '../context.js'
import {UsageError} from '../errors.js'
import {ensurePrivateDir} from '../paths.js'
import {ApiRouter} from './router.js'
import {registerAll} from './routes/index.js'
import type {ApiDeps} from './routes/deps.js'

export type ListenAddress = {kind: 'unix'; path: string} | {kind: 'tcp'; host: string; port: number} | {kind: 'fd'; fd: number}

/** `unix:///path`, `tcp://host:port`; anything else is refused. */
export function parseListenUri(uri: string): ListenAddress {
  if (uri.startsWith('unix://')) {
    const path = uri.slice('unix://'.length)
    if (!path.startsWith('/')) throw new UsageError(`the socket path must be absolute: ${uri}`)
    return {kind: 'unix', path}
  }
  if (uri.startsWith('tcp://')) {
    const u = new URL(uri.replace(/^tcp:/, 'http:'))
    const port = Number(u.port || 2375)
    return {kind: 'tcp', host: u.hostname.replace(/^\[|\]$/g, ''), port}
  }
  throw new UsageError(`unsupported address ${uri}: use unix:///PATH or tcp://HOST:PORT`)
}

/** systemd socket activation: LISTEN_PID is us and LISTEN_FDS >= 1 → fd 3. */
export function activationFd(env: NodeJS.ProcessEnv = process.env): number | undefined {
  if (env.LISTEN_PID === undefined || Number(env.LISTEN_PID) !== process.pid) return undefined
  const n = Number(env.LISTEN_FDS ?? 0)
  return n >= 1 ? 3 : undefined
}

/** Counts requests and open streams; calls `onIdle` after `idleMs` with none (0: never). */
export class IdleTracker {
  private active = 0
  private timer?: NodeJS.Timeout
  constructor(private readonly idleMs: number, private readonly onIdle: () => void) {
    this.arm()
  }
  begin(): () => void {
    this.active++
    if (this.timer) clearTimeout(this.timer)
    this.timer = undefined
    let done = false
    return () => {
      if (done) return
      done = true
      this.active--
      if (this.active === 0) this.arm()
    }
  }
  get inFlight(): number {
    return this.active
  }
  private arm(): void {
    if (this.idleMs <= 0) return
    if (this.timer) clearTimeout(this.timer)
    this.timer = setTimeout(this.onIdle, this.idleMs)
    this.timer.unref?.()
  }
  stop(): void {
    if (this.timer) clearTimeout(this.timer)
  }
}

export interface ApiServer {
  server: Server
  router: ApiRouter
  close(): Promise<void>
}

export function createApiServer(ctx: Context, deps: Omit<ApiDeps, 'ctx' | 'idle'>, idle: IdleTracker): ApiServer {
  const router = new ApiRouter()
  const full: ApiDeps = {...deps, ctx, idle}
  registerAll(router, full)
  const sockets = new Set<Duplex>()
  const server = createServer({requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 5_000})
  server.on('connection', (s: Socket) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const end = idle.begin()
    res.on('close', end)
    res.setHeader('Server', `ctr-ts/${deps.version}`)
    res.setHeader('Api-Version', '1.41')
    res.setHeader('Docker-Experimental', 'false')
    res.setHeader('Ostype', 'linux')
    void router.dispatch({req, res})
  })
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const end = idle.begin()
    socket.on('close', end)
    socket.on('error', () => socket.destroy())
    const res = new ServerResponse(req)
    res.assignSocket(socket as Socket)
    res.shouldKeepAlive = false
    // an error answered before the connection was taken over: the connection ends with it
    res.on('finish', () => socket.end())
    res.setHeader('Api-Version', '1.41')
    void router.dispatch({req, res, upgrade: {socket, head}})
  })
  server.on('clientError', (err, socket) => {
    if (socket.writable) socket.end('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n')
    else socket.destroy()
  })
  return {
    server,
    router,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve())
        for (const s of sockets) s.destroy()
      }),
  }
}

/**
 * Listens where asked. A unix socket gets a private directory (0700) and mode 0600 (created
 * under umask 0177, so it is never reachable by others); a stale socket nobody answers on is
 * replaced, a live one is refused.
 */
export async function listen(server: Server, addr: ListenAddress): Promise<void> {
  if (addr.kind === 'fd') {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen({fd: addr.fd}, () => resolve())
    })
    return
  }
  if (addr.kind === 'tcp') {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(addr.port, addr.host, () => resolve())
    })
    return
  }
  ensurePrivateDir(dirname(addr.path), 'socket directory')
  await removeStaleSocket(addr.path)
  const old = process.umask(0o177)
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(addr.path, () => resolve())
    })
  } finally {
    process.umask(old)
  }
  chmodSync(addr.path, 0o600)
}

async function removeStaleSocket(path: string): Promise<void> {
  let isSocket: boolean
  try {
    isSocket = lstatSync(path).isSocket()
  } catch {
    return
  }
  if (!isSocket) throw new UsageError(`${path} exists and is not a socket`)
  const alive = await new Promise<boolean>((resolve) => {
    const c = connect(path)
    c.once('connect', () => {
      c.destroy()
      resolve(true)
    })
    c.once('error', () => resolve(false))
  })
  if (alive) throw new UsageError(`${path} is in use: another service listens on it`)
  unlinkSync(path)
}
