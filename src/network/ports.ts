import {readFileSync} from 'node:fs'
import {UsageError} from '../errors.js'

/**
 * One published port (`-p`): kept in the container record and its state, given to the port
 * proxy. Defined here, in the network stage, so that network/ never imports container/.
 */
export interface PortMapping {
  hostIp: string
  /** 0 until start chose a free port. */
  hostPort: number
  containerPort: number
  protocol: 'tcp' | 'udp'
}

function parsePort(s: string, what: string): number {
  const n = Number(s)
  if (!/^\d+$/.test(s) || n < 1 || n > 65535) throw new UsageError(`invalid ${what} port "${s}"`)
  return n
}

function parseRange(s: string, what: string): number[] {
  const [a, b] = s.split('-')
  const start = parsePort(a ?? '', what)
  const end = b === undefined ? start : parsePort(b, what)
  if (end < start) throw new UsageError(`invalid ${what} port range "${s}"`)
  return Array.from({length: end - start + 1}, (_, i) => start + i)
}

/**
 * Parses one `-p` value: `[hostIP:][hostPort:]containerPort[/tcp|/udp]` with ranges
 * (`8080-8081:80-81`). A missing host port is 0: a free port is chosen at start.
 */
export function parsePublish(spec: string): PortMapping[] {
  const slashParts = spec.split('/')
  if (slashParts.length > 2) throw new UsageError(`invalid port publication "${spec}": one /tcp or /udp at most`)
  const [addr, protoRaw] = slashParts
  const protocol = (protoRaw ?? 'tcp').toLowerCase()
  if (protocol !== 'tcp' && protocol !== 'udp') throw new UsageError(`invalid protocol in "${spec}": use tcp or udp`)
  let hostIp = '0.0.0.0'
  let rest = addr ?? ''
  const ipv6 = rest.match(/^\[([0-9a-fA-F:]+)\]:(.*)$/)
  if (ipv6) {
    hostIp = ipv6[1]!
    rest = ipv6[2]!
  }
  const parts = rest.split(':')
  if (parts.length > 3 || parts.some((p, i) => p === '' && i === parts.length - 1)) throw new UsageError(`invalid port publication "${spec}"`)
  let hostPart = ''
  let ctrPart: string
  if (parts.length === 3) {
    hostIp = parts[0] || hostIp
    hostPart = parts[1]!
    ctrPart = parts[2]!
  } else if (parts.length === 2) {
    hostPart = parts[0]!
    ctrPart = parts[1]!
  } else {
    ctrPart = parts[0]!
  }
  const ipv4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(hostIp)
  if ((!ipv4 || ipv4.slice(1).some((o) => Number(o) > 255)) && !hostIp.includes(':')) {
    throw new UsageError(`invalid host IP "${hostIp}" in "${spec}"`)
  }
  const ctrPorts = parseRange(ctrPart, 'container')
  const hostPorts = hostPart === '' ? ctrPorts.map(() => 0) : parseRange(hostPart, 'host')
  if (hostPorts.length !== ctrPorts.length) throw new UsageError(`port ranges in "${spec}" differ in size`)
  return ctrPorts.map((containerPort, i) => ({hostIp, hostPort: hostPorts[i]!, containerPort, protocol}))
}

/** What one port proxy serves (shim/ctr-ts-portproxy.c MAX_PUBS). */
export const MAX_PUBLICATIONS = 256

export function unprivilegedPortStart(): number {
  try {
    return Number(readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8').trim())
  } catch {
    return 1024
  }
}

/** All publications of a container: `-p` values plus `-P` for the image's exposed ports. */
export function resolvePublish(publish: string[], exposed: string[], network: string): PortMapping[] {
  const ports = publish.flatMap(parsePublish)
  for (const e of exposed) {
    const [range, proto] = e.split('/')
    for (const containerPort of parseRange(range ?? '', 'exposed')) {
      ports.push({hostIp: '0.0.0.0', hostPort: 0, containerPort, protocol: proto === 'udp' ? 'udp' : 'tcp'})
    }
  }
  if (ports.length > MAX_PUBLICATIONS) throw new UsageError(`too many published ports (${ports.length}): at most ${MAX_PUBLICATIONS} per container`)
  if (ports.length > 0 && network !== 'slirp4netns' && network !== 'bridge') {
    throw new UsageError(`publishing ports needs the slirp4netns network or a user-defined network (this container uses --network ${network})`)
  }
  const min = unprivilegedPortStart()
  for (const p of ports) {
    if (p.hostPort !== 0 && p.hostPort < min) {
      throw new UsageError(
        `cannot publish host port ${p.hostPort}: ports below ${min} need root (net.ipv4.ip_unprivileged_port_start=${min}); pick a port >= ${min} or lower that sysctl`,
      )
    }
  }
  return ports
}
