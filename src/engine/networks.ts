/**
 * The network half of the engine facade: user-defined networks (docker's `network` commands).
 * Typed options in, plain data out; nothing here prints.
 */
import type {Context} from '../context.js'
import {changeLiveNetwork, containerExists, networkStore} from '../container/networks.js'
import {type ContainerNetwork, type ContainerRecord, findContainer, listContainers, saveRecord} from '../container/record.js'
import {containerStatus} from '../container/status.js'
import {ConflictError, NotFoundError, UsageError} from '../errors.js'
import {writeEtcFiles} from '../network/etc-files.js'
import {containerPaths} from '../container/record.js'
import {createNetwork, findNetwork, listNetworks, type NetworkRecord, releaseIp, removeNetworkRecord, reserveIp} from '../network/records.js'
import {BUILTIN_NETWORKS, type BuiltinNetwork, findBuiltinNetwork, predefinedMessage} from '../network/builtin.js'

export type {NetworkRecord} from '../network/records.js'

export interface NetworkCreateOptions {
  name: string
  subnet?: string
  gateway?: string
  internal: boolean
  labels: string[]
  driver?: string
}

function parseLabels(labels: string[]): Record<string, string> {
  return Object.fromEntries(labels.map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')]))
}

export function networkCreate(ctx: Context, o: NetworkCreateOptions): Promise<NetworkRecord> {
  return createNetwork(networkStore(ctx), {name: o.name, subnet: o.subnet, gateway: o.gateway, internal: o.internal, labels: parseLabels(o.labels), driver: o.driver})
}

/** The containers whose records name the network (running or not). */
async function usersOf(ctx: Context, net: NetworkRecord): Promise<ContainerRecord[]> {
  return (await listContainers(ctx)).filter((c) => (c.networks ?? []).some((n) => n.id === net.id))
}

/** A network as `network ls` shows it: user-defined, or one of docker's pre-defined ones (`builtin`). */
export interface ListedNetwork {
  name: string
  id: string
  driver: string
  created: string
  internal: boolean
  labels: Record<string, string>
  builtin: boolean
}

/** docker's listing row (`network ls`). */
export interface NetworkRow {
  net: ListedNetwork
  containers: ContainerRecord[]
}

/** When the pre-defined networks were "created": docker shows its daemon's start; ctr-ts has none. */
const BUILTIN_CREATED = new Date(0).toISOString()

/** The user-defined networks and docker's pre-defined `bridge`, `host` and `none`, by name. */
export async function networkList(ctx: Context): Promise<NetworkRow[]> {
  const nets = await listNetworks(networkStore(ctx))
  const all = await listContainers(ctx)
  const rows: NetworkRow[] = nets.map((net) => ({net: {...net, builtin: false}, containers: all.filter((c) => (c.networks ?? []).some((n) => n.id === net.id))}))
  for (const b of BUILTIN_NETWORKS) {
    const net: ListedNetwork = {name: b.name, id: b.id, driver: b.driver, created: BUILTIN_CREATED, internal: false, labels: {}, builtin: true}
    rows.push({net, containers: all.filter((c) => c.network === b.mode)})
  }
  return rows.sort((a, b) => a.net.name.localeCompare(b.net.name))
}

/** docker's inspect document of a pre-defined network: its running containers. */
function inspectBuiltin(ctx: Context, b: BuiltinNetwork, users: ContainerRecord[]): Record<string, unknown> {
  const containers: Record<string, unknown> = {}
  for (const c of users) {
    if (!containerStatus(ctx, c).running) continue
    containers[c.id] = {Name: c.name, EndpointID: '', MacAddress: '', IPv4Address: b.containerIp ? `${b.containerIp}/${b.subnet!.split('/')[1]}` : '', IPv6Address: ''}
  }
  return {
    Name: b.name,
    Id: b.id,
    Created: BUILTIN_CREATED,
    Scope: 'local',
    Driver: b.driver,
    EnableIPv6: false,
    IPAM: {Driver: 'default', Options: null, Config: b.subnet ? [{Subnet: b.subnet, Gateway: b.gateway}] : []},
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: {Network: ''},
    ConfigOnly: false,
    Containers: containers,
    Options: b.name === 'bridge' ? {'com.docker.network.bridge.default_bridge': 'true', 'ctr-ts.driver': 'slirp4netns'} : {},
    Labels: {},
  }
}

/** docker's `network inspect` document for one network. */
export async function networkInspect(ctx: Context, nameOrId: string): Promise<Record<string, unknown>> {
  const builtin = findBuiltinNetwork(nameOrId)
  if (builtin) return inspectBuiltin(ctx, builtin, (await listContainers(ctx)).filter((c) => c.network === builtin.mode))
  const net = await findNetwork(networkStore(ctx), nameOrId)
  const containers: Record<string, unknown> = {}
  for (const c of await usersOf(ctx, net)) {
    const on = c.networks!.find((n) => n.id === net.id)!
    const prefix = net.subnet.split('/')[1]
    containers[c.id] = {Name: c.name, IPv4Address: `${on.ip}/${prefix}`, IPv6Address: '', MacAddress: '', Aliases: on.aliases, Running: containerStatus(ctx, c).running}
  }
  return {
    Name: net.name,
    Id: net.id,
    Created: net.created,
    Scope: 'local',
    Driver: net.driver,
    EnableIPv6: false,
    IPAM: {Driver: 'default', Options: {}, Config: [{Subnet: net.subnet, Gateway: net.gateway}]},
    Internal: net.internal,
    Attachable: false,
    Ingress: false,
    Containers: containers,
    Options: {'ctr-ts.bridge': net.bridge, isolate: 'true'},
    Labels: net.labels,
  }
}

/** docker network rm: refused while a container (running or not) is on the network. */
export async function networkRemove(ctx: Context, nameOrId: string): Promise<NetworkRecord> {
  const builtin = findBuiltinNetwork(nameOrId)
  if (builtin) throw new ConflictError(predefinedMessage(builtin.name))
  const net = await findNetwork(networkStore(ctx), nameOrId)
  const users = await usersOf(ctx, net)
  if (users.length > 0) throw new ConflictError(`network ${net.name} has containers: ${users.map((c) => c.name).join(', ')} (remove or disconnect them first)`)
  await removeNetworkRecord(networkStore(ctx), net.name)
  return net
}

/** docker network prune: every network no container is on (`until`/`label` filters: the caller's). */
export async function networkPrune(ctx: Context, keep: (net: NetworkRecord) => boolean = () => false): Promise<string[]> {
  const removed: string[] = []
  const all = await listContainers(ctx)
  for (const net of await listNetworks(networkStore(ctx))) {
    const used = all.some((c) => (c.networks ?? []).some((n) => n.id === net.id))
    if (used || keep(net)) continue
    await removeNetworkRecord(networkStore(ctx), net.name)
    removed.push(net.name)
  }
  return removed
}

/**
 * docker network connect: an address is reserved; a running container gets the interface and
 * its names at once (container/networks.ts changeLiveNetwork), a stopped one at its next start.
 */
export async function networkConnect(ctx: Context, o: {network: string; container: string; aliases: string[]; ip?: string}): Promise<void> {
  const builtin = findBuiltinNetwork(o.network)
  if (builtin) throw new UsageError(`network ${builtin.name} is pre-defined: a container joins it only at create (--network ${builtin.name}); connect takes user-defined networks`)
  const net = await findNetwork(networkStore(ctx), o.network)
  const rec = await findContainer(ctx, o.container)
  if (rec.network !== 'bridge') throw new UsageError(`container ${rec.name} uses --network ${rec.network}: only containers on user-defined networks can be connected to more`)
  if ((rec.networks ?? []).some((n) => n.id === net.id)) throw new ConflictError(`container ${rec.name} is already connected to network ${net.name}`)
  const ip = await reserveIp(networkStore(ctx), net, rec.id, o.ip, (id) => containerExists(ctx, id))
  const entry: ContainerNetwork = {name: net.name, id: net.id, ip, aliases: [...new Set(o.aliases)]}
  if (containerStatus(ctx, rec).running) {
    try {
      await changeLiveNetwork(ctx, rec, entry, false)
    } catch (err) {
      await releaseIp(networkStore(ctx), net.name, ip, rec.id)
      throw err
    }
  }
  await saveRecord(ctx, {...rec, networks: [...(rec.networks ?? []), entry]})
}

/** docker network disconnect (running or not; a container keeps at least one network). */
export async function networkDisconnect(ctx: Context, o: {network: string; container: string}): Promise<void> {
  const rec = await findContainer(ctx, o.container)
  const nets = rec.networks ?? []
  const found = await findNetwork(networkStore(ctx), o.network).catch(() => undefined)
  const entry = nets.find((n) => (found ? n.id === found.id : n.name === o.network))
  if (!entry) throw new NotFoundError(`container ${rec.name} is not connected to network ${o.network}`)
  if (nets.length === 1) throw new ConflictError(`network ${entry.name} is the last network of container ${rec.name}`)
  const running = containerStatus(ctx, rec).running
  if (running) await changeLiveNetwork(ctx, rec, entry, true)
  const rest = nets.filter((n) => n !== entry)
  await saveRecord(ctx, {...rec, networks: rest})
  await releaseIp(networkStore(ctx), entry.name, entry.ip, rec.id)
  if (nets[0] === entry) await refreshEtc(ctx, {...rec, networks: rest})
}

async function refreshEtc(ctx: Context, rec: ContainerRecord): Promise<void> {
  const first = rec.networks?.[0]
  if (!first) return
  const net = await findNetwork(networkStore(ctx), first.name)
  await writeEtcFiles({dir: containerPaths(ctx, rec.id).etc, hostname: rec.hostname, name: rec.name, network: 'bridge', allowHostLoopback: false, ip: first.ip, networkDns: net.gateway})
}
