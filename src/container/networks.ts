import {readFile, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {ConflictError, NotFoundError} from '../errors.js'
import {type Attachment, runNetAttach} from '../network/attach.js'
import {findNetwork, ipReservationFile, type NetworkStore, releaseIp} from '../network/records.js'
import {liveHolder} from '../network/rootless-netns.js'
import {type ContainerNetwork, type ContainerRecord, containerPaths, findContainer, readState} from './record.js'
export {containerExists} from './record.js'
import {containerStatus} from './status.js'

/** The store's user-defined networks. */
export function networkStore(ctx: Context): NetworkStore {
  return {dir: ctx.store.networks}
}


/** --network container:NAME shares the other container's hosts, resolv.conf and hostname. */
export function sharedEtcFiles(ctx: Context, target: ContainerRecord): {hosts: string; resolvConf: string; hostname: string} {
  const dir = containerPaths(ctx, target.id).etc
  return {hosts: join(dir, 'hosts'), resolvConf: join(dir, 'resolv.conf'), hostname: join(dir, 'hostname')}
}

/** The networks of a `bridge` container, as ctr-ts-netattach wants them; a removed network is an error. */
export async function attachmentsOf(ctx: Context, rec: ContainerRecord): Promise<Attachment[]> {
  const out: Attachment[] = []
  for (const n of rec.networks ?? []) {
    const network = await findNetwork(networkStore(ctx), n.name).catch(() => undefined)
    if (!network || network.id !== n.id) throw new NotFoundError(`network ${n.name} of container ${rec.name} no longer exists: disconnect it`)
    // docker: the container's name and short id resolve on every network it is on, plus its aliases
    out.push({network, ip: n.ip, aliases: [...new Set([rec.id.slice(0, 12), ...n.aliases])]})
  }
  return out
}

/**
 * --network container:NAME: the other container must run; the bundle's network namespace is set
 * to its init's. Returns its shim's pid, whose user namespace the new shim joins.
 */
export async function joinTargetNetns(ctx: Context, rec: ContainerRecord): Promise<number> {
  const target = await findContainer(ctx, rec.netnsContainer ?? '').catch(() => {
    throw new NotFoundError(`the container whose network ${rec.name} shares is gone`)
  })
  const status = containerStatus(ctx, target)
  const state = status.running ? readTaskPids(ctx, target) : undefined
  if (!state) throw new ConflictError(`cannot join the network of container ${target.name}: it is not running`)
  await setNetnsPath(ctx, rec, `/proc/${state.containerPid}/ns/net`)
  return state.shimPid
}

/** Points the bundle's network namespace at `path` (the runtime joins it instead of making one). */
export async function setNetnsPath(ctx: Context, rec: ContainerRecord, path: string): Promise<void> {
  const specPath = containerPaths(ctx, rec.id).spec
  const spec = JSON.parse(await readFile(specPath, 'utf8')) as {linux: {namespaces: Array<{type: string; path?: string}>}}
  spec.linux.namespaces = spec.linux.namespaces.map((ns) => (ns.type === 'network' ? {type: 'network', path} : ns))
  await writeFile(specPath, JSON.stringify(spec, null, 2) + '\n', {mode: 0o600})
}

function readTaskPids(ctx: Context, rec: ContainerRecord): {shimPid: number; containerPid: number} | undefined {
  const s = readState(ctx, rec.id)
  return s.shimPid && s.containerPid ? {shimPid: s.shimPid, containerPid: s.containerPid} : undefined
}

/** Files a --rm container's exit command removes besides its own: its address reservations. */
export function reservationFiles(ctx: Context, rec: ContainerRecord): string[] {
  return (rec.networks ?? []).map((n) => ipReservationFile(networkStore(ctx), n.name, n.ip))
}

/** At rm: the container's addresses are free again. */
export async function releaseAddresses(ctx: Context, rec: ContainerRecord): Promise<void> {
  for (const n of rec.networks ?? []) await releaseIp(networkStore(ctx), n.name, n.ip, rec.id)
}

/**
 * network connect/disconnect of a running container (docker's): its network namespace (its
 * init's, held by the rootless network holder) gets or loses one interface and its DNS names at
 * once; resolv.conf (bind-mounted, rewritten in place) lists the gateway of each network, so that
 * aardvark-dns answers for every network the container is on.
 */
export async function changeLiveNetwork(ctx: Context, rec: ContainerRecord, entry: ContainerNetwork, detach: boolean): Promise<void> {
  const pids = readTaskPids(ctx, rec)
  const holder = await liveHolder(ctx.run.netns)
  if (!pids || !holder) throw new ConflictError(`container ${rec.name} is not running on its networks`)
  const network = await findNetwork(networkStore(ctx), entry.name)
  const aliases = [...new Set([rec.id.slice(0, 12), ...entry.aliases])]
  await runNetAttach({
    holderPid: holder.pid,
    netnsPid: pids.containerPid,
    configDir: holder.configDir,
    containerId: rec.id,
    containerName: rec.name,
    attachments: [{network, ip: entry.ip, aliases, ifname: 'eth+'}],
    detach,
  })
  const file = join(containerPaths(ctx, rec.id).etc, 'resolv.conf')
  const text = await readFile(file, 'utf8').catch(() => undefined)
  if (text === undefined) return
  const line = `nameserver ${network.gateway}`
  const lines = text.split('\n').filter((l) => l !== '')
  const servers = lines.filter((l) => l.startsWith('nameserver ')).length
  const next = detach ? (servers > 1 ? lines.filter((l) => l !== line) : lines) : lines.includes(line) ? lines : [...lines.slice(0, lastNameserver(lines) + 1), line, ...lines.slice(lastNameserver(lines) + 1)]
  await writeFile(file, next.join('\n') + '\n')
}

function lastNameserver(lines: string[]): number {
  let last = -1
  lines.forEach((l, i) => {
    if (l.startsWith('nameserver ')) last = i
  })
  return last
}
