import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readdir, readFile, rm, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {ConflictError, NotFoundError, UsageError} from '../errors.js'
import {writeJsonAtomic} from '../runtime/json-file.js'
import {createExclusive, isHiddenTemp, isStaleEmpty} from '../store/exclusive-file.js'
import {formatIpv4, parseCidr, parseIpv4, type Subnet} from './ipv4.js'

/**
 * User-defined networks (docker's `network create`), kept in the store:
 *
 *     networks/<name>/network.json     the record below
 *     networks/<name>/ips/<a.b.c.d>    one address reserved for a container (O_EXCL, its id inside)
 *
 * Addresses are handed out here (podman's IPAM, done by the engine): reserved
 * when a container is created on (or connected to) the network, released when it is removed.
 */
export interface NetworkRecord {
  name: string
  /** 64 hex digits, as docker's network ids. */
  id: string
  driver: 'bridge'
  created: string
  subnet: string
  gateway: string
  internal: boolean
  labels: Record<string, string>
  /** The bridge in the rootless network namespace (ctrts + 9 hex digits of its id). */
  bridge: string
}

/** The built-in network names (`--network` modes), never user-defined. */
export const RESERVED_NETWORK_NAMES = new Set(['none', 'host', 'bridge', 'slirp4netns', 'default', 'container', 'pasta', 'private'])
const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

export interface NetworkStore {
  /** The store's networks/ directory. */
  dir: string
}

function netDir(s: NetworkStore, name: string) {
  return join(s.dir, name)
}
function recordPath(s: NetworkStore, name: string) {
  return join(netDir(s, name), 'network.json')
}
function ipsDir(s: NetworkStore, name: string) {
  return join(netDir(s, name), 'ips')
}
/** The file that reserves `ip` on network `name` (removed with the container). */
export function ipReservationFile(s: NetworkStore, name: string, ip: string): string {
  return join(ipsDir(s, name), ip)
}

export interface CreateNetworkOptions {
  name: string
  subnet?: string
  gateway?: string
  internal: boolean
  labels: Record<string, string>
  driver?: string
}

export async function listNetworks(s: NetworkStore): Promise<NetworkRecord[]> {
  let names: string[]
  try {
    names = await readdir(s.dir)
  } catch {
    return []
  }
  const out: NetworkRecord[] = []
  for (const n of names) {
    const rec = await readRecord(s, n)
    if (rec) out.push(rec)
  }
  return out.sort((a, b) => a.name.localeCompare(b.name))
}

async function readRecord(s: NetworkStore, name: string): Promise<NetworkRecord | undefined> {
  try {
    return JSON.parse(await readFile(recordPath(s, name), 'utf8')) as NetworkRecord
  } catch {
    return undefined
  }
}

/** By name, full id or unique id prefix (docker's rules). */
export async function findNetwork(s: NetworkStore, nameOrId: string): Promise<NetworkRecord> {
  if (NAME_RE.test(nameOrId)) {
    const rec = await readRecord(s, nameOrId)
    if (rec) return rec
  }
  const all = await listNetworks(s)
  if (/^[0-9a-f]+$/.test(nameOrId)) {
    const matches = all.filter((n) => n.id.startsWith(nameOrId))
    if (matches.length === 1) return matches[0]!
    if (matches.length > 1) throw new UsageError(`multiple networks match id prefix ${nameOrId}: be more specific`)
  }
  throw new NotFoundError(`network ${nameOrId} not found`)
}

/** The /24s handed out by default: 10.89.1.0/24 upwards (10.0.2.0/24 is slirp4netns' own). */
function defaultSubnet(taken: Subnet[]): Subnet {
  for (let third = 1; third < 255; third++) {
    const candidate = parseCidr(`10.89.${third}.0/24`)
    if (!taken.some((t) => overlaps(t, candidate))) return candidate
  }
  throw new ConflictError('no free subnet in 10.89.0.0/16: pass --subnet')
}

function overlaps(a: Subnet, b: Subnet): boolean {
  return a.network <= b.broadcast && b.network <= a.broadcast
}

export async function createNetwork(s: NetworkStore, o: CreateNetworkOptions): Promise<NetworkRecord> {
  if (!NAME_RE.test(o.name)) throw new UsageError(`invalid network name "${o.name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`)
  if (RESERVED_NETWORK_NAMES.has(o.name)) throw new UsageError(`network name ${o.name} is reserved for a built-in network mode`)
  if (o.driver !== undefined && o.driver !== 'bridge') throw new UsageError(`unsupported network driver "${o.driver}": the one supported is bridge`)
  const existing = await listNetworks(s)
  if (existing.some((n) => n.name === o.name)) throw new ConflictError(`network with name ${o.name} already exists`)
  const taken = existing.map((n) => parseCidr(n.subnet))
  taken.push(parseCidr('10.0.2.0/24'))
  let subnet: Subnet
  if (o.subnet !== undefined) {
    subnet = parseCidr(o.subnet)
    if (subnet.prefix > 30) throw new UsageError(`subnet ${o.subnet} is too small: use a prefix of /30 or shorter`)
    const clash = taken.find((t) => overlaps(t, subnet))
    if (clash) throw new ConflictError(`subnet ${o.subnet} overlaps ${formatIpv4(clash.network)}/${clash.prefix}, already in use`)
  } else {
    if (o.gateway !== undefined) throw new UsageError('--gateway needs --subnet')
    subnet = defaultSubnet(taken)
  }
  let gateway = subnet.network + 1
  if (o.gateway !== undefined) {
    gateway = parseIpv4(o.gateway)
    if (gateway <= subnet.network || gateway >= subnet.broadcast) throw new UsageError(`gateway ${o.gateway} is not a host address of subnet ${o.subnet}`)
  }
  const id = createHash('sha256').update(randomBytes(32)).digest('hex')
  const rec: NetworkRecord = {
    name: o.name,
    id,
    driver: 'bridge',
    created: new Date().toISOString(),
    subnet: `${formatIpv4(subnet.network)}/${subnet.prefix}`,
    gateway: formatIpv4(gateway),
    internal: o.internal === true,
    labels: o.labels,
    // named after the id: a network removed and created again while the holder lives (its old
    // bridge still there) never meets its predecessor's bridge
    bridge: `ctrts${id.slice(0, 9)}`,
  }
  await mkdir(s.dir, {recursive: true, mode: 0o700})
  try {
    await mkdir(netDir(s, o.name), {mode: 0o700})
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new ConflictError(`network with name ${o.name} already exists`)
    throw err
  }
  await mkdir(ipsDir(s, o.name), {mode: 0o700})
  await writeJsonAtomic(recordPath(s, o.name), rec)
  return rec
}

/** Ids of the containers holding an address on the network (stale holders are the caller's to judge). */
export async function networkHolders(s: NetworkStore, name: string): Promise<Array<{ip: string; id: string}>> {
  let ips: string[]
  try {
    ips = await readdir(ipsDir(s, name))
  } catch {
    return []
  }
  const out: Array<{ip: string; id: string}> = []
  for (const ip of ips) {
    if (isHiddenTemp(ip)) continue
    const id = (await readFile(join(ipsDir(s, name), ip), 'utf8').catch(() => '')).trim()
    if (id) out.push({ip, id})
  }
  return out
}

export async function removeNetworkRecord(s: NetworkStore, name: string): Promise<void> {
  await rm(netDir(s, name), {recursive: true, force: true})
}

/**
 * Reserves an address for container `id`: `wanted` (--ip) or the first free host address after
 * the gateway. A reservation whose container no longer exists (`exists(id)` false) is taken over.
 */
export async function reserveIp(s: NetworkStore, net: NetworkRecord, id: string, wanted: string | undefined, exists: (id: string) => boolean): Promise<string> {
  const subnet = parseCidr(net.subnet)
  const gateway = parseIpv4(net.gateway)
  const candidates: number[] = []
  if (wanted !== undefined) {
    const ip = parseIpv4(wanted)
    if (ip <= subnet.network || ip >= subnet.broadcast || ip === gateway) throw new UsageError(`address ${wanted} is not a free host address of network ${net.name} (${net.subnet})`)
    candidates.push(ip)
  } else {
    for (let ip = subnet.network + 1; ip < subnet.broadcast; ip++) if (ip !== gateway) candidates.push(ip)
  }
  await mkdir(ipsDir(s, net.name), {recursive: true, mode: 0o700})
  for (const ip of candidates) {
    const text = formatIpv4(ip)
    const file = ipReservationFile(s, net.name, text)
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await createExclusive(file, id)
        return text
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
        const owner = (await readFile(file, 'utf8').catch(() => '')).trim()
        const stale = owner === '' ? await isStaleEmpty(file) : owner !== id && !exists(owner)
        if (attempt === 0 && stale) {
          await unlink(file).catch(() => undefined)
          continue
        }
        if (owner === id) return text
        break
      }
    }
  }
  if (wanted !== undefined) throw new ConflictError(`address ${wanted} is already in use on network ${net.name}`)
  throw new ConflictError(`no free address left on network ${net.name} (${net.subnet})`)
}

export async function releaseIp(s: NetworkStore, name: string, ip: string, id: string): Promise<void> {
  const file = ipReservationFile(s, name, ip)
  const owner = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (owner === id) await unlink(file).catch(() => undefined)
}
