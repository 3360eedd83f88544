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
  dns?: string
  hostResolvConf?: string
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
  return lines.join('\n') + '\n'
}

export function renderResolvConf(input: EtcFilesInput): string {
  const host = input.hostResolvConf ?? readHostResolvConf()
  if (input.network === 'host') return host
  if (input.network === 'none') return ''
  if (input.network === 'bridge') {
    // aardvark-dns answers the network's names and forwards the rest (through slirp4netns' DNS)
    const search = host.split('\n').filter((l) => /^(search|options)\s/.test(l.trim()))
    return [`nameserver ${input.dns ?? SLIRP.dns}`, ...search].join('\n') + '\n'
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
  await writeFile(paths.hosts, renderHosts(input), {mode: 0o644})
  await writeFile(paths.resolvConf, renderResolvConf(input), {mode: 0o644})
  await writeFile(paths.hostname, input.hostname + '\n', {mode: 0o644})
  return paths
}
