import type {Socket} from 'node:net'
import {RuntimeError} from '../errors.js'
import {killQuietly, readUntil, spawnDetached} from './proxy.js'

/**
 * slirp4netns gives the container's network namespace a tap0 interface (10.0.2.100/24, gateway
 * 10.0.2.2, DNS 10.0.2.3) backed by a user-mode TCP/IP stack in the host network namespace.
 *
 * It is started through `nsenter --user` into the container's user namespace, like the port
 * proxy: as root of that namespace it may join the container's network namespace (given by
 * path), and --enable-sandbox works (it needs to be root in its user namespace: run as the plain
 * host user, slirp4netns 1.2.0 dies with `setegid(0)`). Its exit fd (3) is the other end of the
 * port proxy's fd 3: when the proxy exits (with the container), slirp4netns sees EOF/HUP and
 * exits too. Its ready fd (4) receives "1" once tap0 is configured.
 */
export interface SlirpOptions {
  nsenter: string
  slirp4netns: string
  shimPid: number
  containerPid: number
  /** Its API socket (unused by ctr-ts today; useful for debugging and future port changes). */
  apiSocket: string
  /** Without it, connections to 10.0.2.2 are refused instead of reaching the host's 127.0.0.1. */
  allowHostLoopback: boolean
  /** The CLI's end of the port proxy's anchor socketpair, passed as fd 3. */
  exitFd: Socket
  /** slirp4netns' stdout and stderr are written here (truncated at each start). */
  logFd: number
  /** How long to wait for the ready fd (default 10 s). */
  timeoutMs?: number
}

/** MTU of tap0: slirp4netns' maximum minus one, as podman uses. */
export const SLIRP_MTU = 65520

/** The argv (after nsenter's path) that starts slirp4netns; fd 3 = exit fd, fd 4 = ready fd. */
export function slirpArgv(o: Pick<SlirpOptions, 'slirp4netns' | 'shimPid' | 'containerPid' | 'apiSocket' | 'allowHostLoopback'>): string[] {
  const args = ['--target', String(o.shimPid), '--user', '--preserve-credentials', '--', o.slirp4netns]
  args.push('--configure', `--mtu=${SLIRP_MTU}`)
  if (!o.allowHostLoopback) args.push('--disable-host-loopback')
  args.push('--enable-sandbox', '--enable-seccomp')
  args.push(`--api-socket=${o.apiSocket}`, '--ready-fd=4', '--exit-fd=3')
  args.push('--netns-type=path', `/proc/${o.containerPid}/ns/net`, 'tap0')
  return args
}

/** Starts slirp4netns (detached, in its own session) and waits until tap0 is configured. */
export async function startSlirp(o: SlirpOptions): Promise<{pid: number}> {
  const child = spawnDetached(o.nsenter, slirpArgv(o), ['ignore', o.logFd, o.logFd, o.exitFd, 'pipe'])
  const pid = child.pid
  const ready = child.stdio[4] as Socket | null
  if (pid === undefined || !ready) {
    ready?.destroy()
    throw new RuntimeError(`cannot start ${o.slirp4netns}`)
  }
  try {
    await readUntil(ready, (text) => (text.includes('1') ? true : undefined), o.timeoutMs ?? 10_000, 'slirp4netns')
    ready.destroy()
    child.unref()
    return {pid}
  } catch (err) {
    ready.destroy()
    killQuietly(pid)
    throw err
  }
}
