import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {PrerequisiteError, RuntimeError} from '../errors.js'
import {which} from '../runtime/binaries.js'
import {helperPath} from '../userns/helpers.js'
import type {NetworkRecord} from './records.js'

/** Where Debian and Fedora put podman's network helpers. */
const HELPER_DIRS = ['/usr/lib/podman', '/usr/libexec/podman', '/usr/local/libexec/podman', '/usr/local/lib/podman']

export function findPodmanHelper(name: 'aardvark-dns'): string {
  for (const dir of HELPER_DIRS) if (existsSync(`${dir}/${name}`)) return `${dir}/${name}`
  const onPath = which(name)
  if (onPath) return onPath
  throw new PrerequisiteError(`${name} not found (looked in ${HELPER_DIRS.join(', ')} and PATH): install it (Debian/Ubuntu: apt install ${name})`)
}

/** One network a container is attached to. */
export interface Attachment {
  network: NetworkRecord
  ip: string
  /** DNS names besides the container's name: its short id and --network-alias. */
  aliases: string[]
  /** The interface in the container: eth0, eth1, ... in --network order; `eth+`: the first free one (network connect). */
  ifname?: string
}

/**
 * ctr-ts-netattach's arguments for one container: one group per network (bridge, subnet,
 * gateway, address, interface ethN in order unless given, internal, DNS names: the container's
 * name, then its aliases). `detach` removes the interfaces (found by address) and names instead.
 */
export function netAttachArgs(o: {configDir: string; aardvark: string; netns: string; containerId: string; containerName: string; attachments: Attachment[]; detach?: boolean}): string[] {
  const args = ['--config-dir', o.configDir, '--aardvark', o.aardvark, '--netns', o.netns, '--id', o.containerId]
  if (o.detach) args.push('--detach')
  o.attachments.forEach((a, i) => {
    const n = a.network
    if (o.detach) {
      // the interface that holds the address (its ethN may have changed since the start)
      args.push('--net', n.name, '--ip', a.ip)
      return
    }
    args.push('--net', n.name, '--ifname', a.ifname ?? `eth${i}`)
    args.push('--bridge', n.bridge, '--subnet', n.subnet, '--gateway', n.gateway, '--ip', a.ip)
    args.push('--names', [...new Set([o.containerName, ...a.aliases])].join(','))
    if (n.internal) args.push('--internal')
  })
  return args
}

const SYSTEM_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/**
 * Runs ctr-ts-netattach inside the holder's user, network and mount namespaces (nsenter) on a
 * network namespace (/proc/PID/ns/net): bridges, veths, addresses, routes, firewall and
 * aardvark-dns names (see shim/ctr-ts-netattach.c).
 */
export async function runNetAttach(o: {holderPid: number; netnsPid: number; configDir: string; containerId: string; containerName: string; attachments: Attachment[]; detach?: boolean}): Promise<void> {
  const nsenter = which('nsenter')
  if (!nsenter) throw new PrerequisiteError('nsenter not found: install util-linux')
  const args = ['--target', String(o.holderPid), '--user', '--net', '--mount', '--preserve-credentials', '--', helperPath('ctr-ts-netattach')]
  args.push(...netAttachArgs({...o, aardvark: findPodmanHelper('aardvark-dns'), netns: `/proc/${o.netnsPid}/ns/net`}))
  const {code, stderr} = await new Promise<{code: number | null; stderr: string}>((resolve, reject) => {
    const child = spawn(nsenter, args, {stdio: ['ignore', 'ignore', 'pipe'], env: {PATH: SYSTEM_PATH}})
    let err = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (d: string) => (err += d))
    child.on('error', reject)
    child.on('close', (c) => resolve({code: c, stderr: err}))
  })
  if (code !== 0) {
    const why = stderr.split('\n').map((l) => l.trim()).filter(Boolean).at(-1) ?? `exit code ${code}`
    throw new RuntimeError(`cannot attach the container to its networks: ${why}`)
  }
}
