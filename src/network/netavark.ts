import {existsSync} from 'node:fs'
import {PrerequisiteError, RuntimeError} from '../errors.js'
import {which} from '../runtime/binaries.js'
import type {NetworkRecord} from './records.js'

/** Where Debian and Fedora put podman's network helpers. */
const HELPER_DIRS = ['/usr/lib/podman', '/usr/libexec/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman']

export function findPodmanHelper(name: 'netavark' | 'aardvark-dns'): string {
  for (const dir of HELPER_DIRS) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  const onPath = which(name)
  if (onPath) return onPath
  throw new PrerequisiteError(`${name} not found (looked in ${HELPER_DIRS.join(', ')} and PATH): install it (Debian/Ubuntu: apt install ${name})`)
}

/** One network a container is attached to. */
export interface Attachment {
  network: NetworkRecord
  ip: string
  aliases: string[]
}

/**
 * netavark's setup input (its `NetworkOptions`): the container, its interfaces (eth0, eth1, ...,
 * one per network in order) with their static addresses and DNS aliases, and each network's
 * definition. Every network is `isolate`d (no traffic between bridges, as docker's networks);
 * `internal` ones get no NAT and no default route.
 */
export function netavarkInput(containerId: string, containerName: string, attachments: Attachment[]): unknown {
  const networks: Record<string, unknown> = {}
  const info: Record<string, unknown> = {}
  attachments.forEach((a, i) => {
    networks[a.network.name] = {interface_name: `eth${i}`, static_ips: [a.ip], aliases: a.aliases}
    info[a.network.name] = {
      name: a.network.name,
      id: a.network.id,
      driver: 'bridge',
      network_interface: a.network.bridge,
      subnets: [{subnet: a.network.subnet, gateway: a.network.gateway}],
      ipv6_enabled: false,
      internal: a.network.internal,
      dns_enabled: true,
      ipam_options: {driver: 'host-local'},
      options: {isolate: 'true'},
    }
  })
  return {container_id: containerId, container_name: containerName, networks, network_info: info, port_mappings: []}
}

/**
 * Runs `netavark setup` for a created container inside the holder's user, network and mount
 * namespaces (nsenter), on the container's network namespace (/proc/PID/ns/net).
 */
export async function netavarkSetup(o: {holderPid: number; configDir: string; containerPid: number; input: unknown}): Promise<void> {
  const nsenter = which('nsenter')
  if (!nsenter) throw new PrerequisiteError('nsenter not found: install util-linux')
  const netavark = findPodmanHelper('netavark')
  const aardvark = findPodmanHelper('aardvark-dns')
  const {execa} = await import('execa')
  const args = ['--target', String(o.holderPid), '--user', '--net', '--mount', '--preserve-credentials', '--', netavark]
  args.push('--config', o.configDir, '--aardvark-binary', aardvark, 'setup', `/proc/${o.containerPid}/ns/net`)
  const r = await execa(nsenter, args, {input: JSON.stringify(o.input), reject: false, env: {PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'}, extendEnv: false})
  if (r.exitCode !== 0) {
    const text = `${String(r.stdout)}\n${String(r.stderr)}`
    let why = text.split('\n').filter((l) => l.trim() && !l.includes('syslog')).at(-1) ?? `exit code ${r.exitCode}`
    try {
      const parsed = JSON.parse(why) as {error?: string}
      if (parsed.error) why = parsed.error
    } catch {
      // plain text
    }
    throw new RuntimeError(`netavark setup failed: ${why}`)
  }
}
