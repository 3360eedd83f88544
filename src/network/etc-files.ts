import {readFileSync} from 'node:fs'
import {mkdir, writeFile} from 'node:fs/promises'
import {join} from 'node:path'

/** slirp4netns' fixed addresses (its defaults for 10.0.2.0/24). */
export const SLIRP = {
  cidr: '10.0.2.0/24',
  guest: '10.0.2.100',
  gateway: '10.0.2.2',
  dns: '10.0.2.3',
} as const

/** The name under which the host's loopback services are reachable when allowed. */
export const HOST_GATEWAY_NAME = 'host.containers.internal'

export interface EtcFilesInput {
  dir: string
  hostname: string
  name: string
  network: 'none' | 'slirp4netns' | 'host' | 'bridge'
  allowHostLoopback: boolean
  /** bridge: the container's address on its first network, and that network's DNS server (aardvark-dns on the gateway). */
  ip?: string
  networkDns?: string
  hostResolvConf?: string
  /** --add-host entries, appended to /etc/hosts. */
  extraHosts?: Array<{name: string; ip: string}>
  /** --dns, --dns-search, --dns-option: each replaces its part of resolv.conf. */
  dns?: {dns: string[]; search: string[]; options: string[]}
}

export function renderHosts(input: EtcFilesInput): string {
  const lines = ['127.0.0.1\tlocalhost', '::1\tlocalhost ip6-localhost ip6-loopback']
  const names = [...new Set([input.hostname, input.name])].join(' ')
  if (input.network === 'bridge' && input.ip) {
    lines.push(`${input.ip}\t${names}`)
  } else if (input.network === 'slirp4netns') {
    lines.push(`${SLIRP.guest}\t${names}`)
    if (input.allowHostLoopback) lines.push(`${SLIRP.gateway}\t${HOST_GATEWAY_NAME} host.docker.internal`)
  } else {
    lines.push(`127.0.1.1\t${names}`)
  }
  for (const h of input.extraHosts ?? []) lines.push(`${h.ip}\t${h.name}`)
  return lines.join('\n') + '\n'
}

export function renderResolvConf(input: EtcFilesInput): string {
  const base = baseResolvConf(input)
  const d = input.dns
  if (!d || d.dns.length + d.search.length + d.options.length === 0) return base
  return applyDnsOptions(base, d)
}

/** The resolv.conf a container gets when --dns, --dns-search or --dns-option is given (docker's rules: each replaces its part). */
export function applyDnsOptions(base: string, o: {dns: string[]; search: string[]; options: string[]}): string {
  const lines = base.split('\n').filter((l) => l.trim() !== '')
  const keep = (kind: string, replaced: boolean) => (replaced ? [] : lines.filter((l) => l.trim().startsWith(kind)))
  const servers = o.dns.length > 0 ? o.dns.map((d) => `nameserver ${d}`) : keep('nameserver', false)
  const search = o.search.length > 0 ? (o.search.filter((s) => s !== '.').length > 0 ? [`search ${o.search.filter((s) => s !== '.').join(' ')}`] : []) : keep('search', false)
  const options = o.options.length > 0 ? [`options ${o.options.join(' ')}`] : keep('options', false)
  return [...servers, ...search, ...options].join('\n') + '\n'
}

function baseResolvConf(input: EtcFilesInput): string {
  const host = input.hostResolvConf ?? readHostResolvConf()
  if (input.network === 'host') return host
  if (input.network === 'none') return ''
  if (input.network === 'bridge') {
    // aardvark-dns answers the network's names and forwards the rest (through slirp4netns' DNS)
    const search = host.split('\n').filter((l) => /^(search|options)\s/.test(l.trim()))
    return [`nameserver ${input.networkDns ?? SLIRP.dns}`, ...search].join('\n') + '\n'
  }
  // slirp4netns: its built-in DNS forwarder reaches the host's resolvers, including loopback ones.
  const search = host.split('\n').filter((l) => /^(search|options)\s/.test(l.trim()))
  return [`nameserver ${SLIRP.dns}`, ...search].join('\n') + '\n'
}

function readHostResolvConf(): string {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8')
  } catch {
    return ''
  }
}

/** Writes hosts, resolv.conf and hostname for a container; returns their paths. */
export async function writeEtcFiles(input: EtcFilesInput): Promise<{hosts: string; resolvConf: string; hostname: string}> {
  await mkdir(input.dir, {recursive: true, mode: 0o755})
  const paths = {hosts: join(input.dir, 'hosts'), resolvConf: join(input.dir, 'resolv.conf'), hostname: join(input.dir, 'hostname')}
  await Promise.all([
    writeFile(paths.hosts, renderHosts(input), {mode: 0o644}),
    writeFile(paths.resolvConf, renderResolvConf(input), {mode: 0o644}),
    writeFile(paths.hostname, input.hostname + '\n', {mode: 0o644}),
  ])
  return paths
}
