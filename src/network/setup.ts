import {closeSync, openSync, readFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {CtrError, PrerequisiteError, RuntimeError} from '../errors.js'
import {which} from '../runtime/binaries.js'
import {helperPath} from '../userns/helpers.js'
import type {PortMapping} from './ports.js'
import {killQuietly, startPortProxy} from './proxy.js'
import {startSlirp} from './slirp.js'
import {type Attachment, runNetAttach} from './attach.js'
import type {Holder} from './rootless-netns.js'

export interface NetworkSetupInput {
  network: 'slirp4netns' | 'none' | 'host' | 'bridge' | 'container'
  /** bridge: the holder (its connection goes to the port proxy) and the container's networks. */
  bridge?: {holder: Holder; attachments: Attachment[]; attached: Promise<void>}
  /** A process in the container's user namespace (the shim). */
  shimPid: number
  /** The container's init (created, not yet started), as seen from the host. */
  containerPid: number
  /** The container's runtime directory: slirp's API socket and the helpers' logs go here. */
  runDir: string
  ports: PortMapping[]
  allowHostLoopback: boolean
  /** Seconds before an idle UDP flow of the port proxy is closed. */
  udpIdleTimeout: number
}

export interface NetworkSetup {
  /** The helper processes (port proxy, slirp4netns); they exit by themselves with the container. */
  helperPids: number[]
  /** `ports` with the host ports actually bound (a requested 0 becomes the chosen port). */
  ports: PortMapping[]
}

/** Files in the container's runtime directory. */
export function networkPaths(runDir: string) {
  return {
    apiSocket: join(runDir, 'slirp.sock'),
    slirpLog: join(runDir, 'slirp4netns.log'),
    proxyLog: join(runDir, 'portproxy.log'),
  }
}

/**
 * Gives a created container its network before its process starts. For slirp4netns: the port
 * proxy first (always, even without ports: it anchors slirp4netns' lifetime), then slirp4netns.
 * `none` keeps the loopback-only namespace runc made; `host` shares the host's. On failure
 * whatever was started is killed and a typed error is thrown (UsageError for a taken port).
 */
export async function setupNetwork(input: NetworkSetupInput): Promise<NetworkSetup> {
  if (input.network === 'bridge' && input.bridge) return setupBridge(input, input.bridge)
  if (input.network !== 'slirp4netns') return {helperPids: [], ports: input.ports}
  const slirp4netns = which('slirp4netns')
  if (!slirp4netns) throw new PrerequisiteError('slirp4netns not found: install it (Debian/Ubuntu: apt install slirp4netns) or use --network none')
  const nsenter = which('nsenter')
  if (!nsenter) throw new PrerequisiteError('nsenter not found: install util-linux')
  const proxyPath = helperPath('ctr-ts-portproxy')
  const paths = networkPaths(input.runDir)
  // a container that is started again finds its previous API socket: slirp4netns would refuse it
  await rm(paths.apiSocket, {force: true})

  const proxyLog = openSync(paths.proxyLog, 'w', 0o600)
  const slirpLog = openSync(paths.slirpLog, 'w', 0o600)
  const started: number[] = []
  try {
    const proxy = await startPortProxy({
      nsenter,
      proxyPath,
      shimPid: input.shimPid,
      containerPid: input.containerPid,
      ports: input.ports,
      udpIdleTimeout: input.udpIdleTimeout,
      logFd: proxyLog,
    }).catch((err: unknown) => {
      throw explain(err, paths.proxyLog)
    })
    started.push(proxy.pid)
    if (!proxy.anchor) throw new RuntimeError('the port proxy has no anchor')
    const anchor = proxy.anchor
    try {
      const slirp = await startSlirp({
        nsenter,
        slirp4netns,
        shimPid: input.shimPid,
        containerPid: input.containerPid,
        apiSocket: paths.apiSocket,
        allowHostLoopback: input.allowHostLoopback,
        exitFd: anchor,
        logFd: slirpLog,
      }).catch((err: unknown) => {
        throw explain(err, paths.slirpLog)
      })
      started.push(slirp.pid)
    } finally {
      // slirp4netns holds its own copy now (or failed): the proxy and slirp4netns keep the two ends
      anchor.destroy()
    }
    return {helperPids: started, ports: proxy.ports}
  } catch (err) {
    for (const pid of started) killQuietly(pid)
    throw err
  } finally {
    closeSync(proxyLog)
    closeSync(slirpLog)
  }
}

/**
 * A container on user-defined networks: ctr-ts-netattach attaches its network namespace (the
 * holder's keeper's, which the container joined) to the bridges in the holder's namespace (veth,
 * address, routes, firewall, aardvark-dns names) while the container is created (`attachNetworks`); then
 * the port proxy starts, always: it publishes the ports towards the first network's address, and it holds
 * the container's connection to the holder as its fd 3 until the container exits.
 */
async function setupBridge(input: NetworkSetupInput, b: NonNullable<NetworkSetupInput['bridge']>): Promise<NetworkSetup> {
  const nsenter = which('nsenter')
  if (!nsenter) throw new PrerequisiteError('nsenter not found: install util-linux')
  await b.attached
  const first = b.attachments[0]
  const paths = networkPaths(input.runDir)
  const proxyLog = openSync(paths.proxyLog, 'w', 0o600)
  try {
    const proxy = await startPortProxy({
      nsenter,
      proxyPath: helperPath('ctr-ts-portproxy'),
      shimPid: input.shimPid,
      containerPid: input.containerPid,
      ports: input.ports,
      udpIdleTimeout: input.udpIdleTimeout,
      logFd: proxyLog,
      containerIp: first?.ip,
      loopbackAs: first?.network.gateway,
      fd3: b.holder.connection,
    }).catch((err: unknown) => {
      throw explain(err, paths.proxyLog)
    })
    return {helperPids: [proxy.pid], ports: proxy.ports}
  } finally {
    closeSync(proxyLog)
  }
}

/**
 * Attaches the keeper's network namespace at once: the caller creates the container
 * meanwhile and waits for the promise in setupNetwork.
 */
export function attachNetworks(holder: Holder, containerId: string, containerName: string, attachments: Attachment[]): Promise<void> {
  const attached = runNetAttach({holderPid: holder.pid, netnsPid: holder.keeperPid, configDir: holder.configDir, containerId, containerName, attachments})
  attached.catch(() => undefined) // awaited (and reported) by setupNetwork
  return attached
}

/** Adds the helper's last diagnostic line to a "not ready" error, which alone says little. */
function explain(err: unknown, logFile: string): unknown {
  if (!(err instanceof RuntimeError)) return err instanceof CtrError ? err : new RuntimeError(String(err), {cause: err})
  const why = lastLogLine(logFile)
  return why ? new RuntimeError(`${err.message}: ${why}`, {cause: err}) : err
}

function lastLogLine(path: string): string {
  try {
    const lines = readFileSync(path, 'utf8')
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('WARNING:'))
    return lines.at(-1) ?? ''
  } catch {
    return ''
  }
}
