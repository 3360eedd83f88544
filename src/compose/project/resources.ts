/**
 * A project's networks and volumes: created (with docker compose's labels) before its
 * containers, external ones checked, and removed by `down` (volumes only with -v).
 */
import type {Context} from '../../context.js'
import * as networks from '../../engine/networks.js'
import * as volumes from '../../engine/volumes.js'
import {ComposeRunError} from '../../errors.js'
import {COMPOSE_LABELS as L, type ComposeProject} from '../model/types.js'
import {labelList, projectLabels} from './labels.js'
import type {Progress} from './progress.js'

/** The network keys the services use (the project's `default` included when used). */
export function usedNetworks(project: ComposeProject, services: readonly string[]): string[] {
  const keys = new Set<string>()
  for (const s of services) for (const k of Object.keys(project.services[s]?.networks ?? {})) keys.add(k)
  return Object.keys(project.networks).filter((k) => keys.has(k))
}

/** The top-level volume keys the services mount. */
export function usedVolumes(project: ComposeProject, services: readonly string[]): string[] {
  const keys = new Set<string>()
  for (const s of services) for (const v of project.services[s]?.volumes ?? []) if (v.type === 'volume' && v.source) keys.add(v.source)
  return Object.keys(project.volumes).filter((k) => keys.has(k))
}

/** The real name of a network key (PROJECT_KEY unless named); an undeclared key is used as it is. */
export function networkName(project: ComposeProject, key: string): string {
  return project.networks[key]?.name ?? key
}

export function volumeName(project: ComposeProject, key: string): string {
  return project.volumes[key]?.name ?? key
}

export async function ensureNetworks(ctx: Context, project: ComposeProject, keys: readonly string[], progress: Progress): Promise<void> {
  const existing = new Map((await networks.networkList(ctx)).map((r) => [r.net.name, r.net]))
  for (const key of keys) {
    const n = project.networks[key]!
    const found = existing.get(n.name)
    if (n.external) {
      if (!found) throw new ComposeRunError(`network ${n.name} declared as external, but could not be found`)
      continue
    }
    if (found) {
      if (found.labels[L.project] !== undefined && found.labels[L.project] !== project.name) {
        progress.warn(`a network with name ${n.name} exists but was not created for project "${project.name}". Set \`external: true\` to use an existing network`)
      }
      continue
    }
    if (n.driver !== undefined && n.driver !== 'bridge') throw new ComposeRunError(`network ${key}: driver ${n.driver} is not supported (rootless: bridge only)`)
    const ipam = n.ipam?.config[0]
    progress.event('Network', n.name, 'Creating')
    await networks.networkCreate(ctx, {
      name: n.name,
      internal: n.internal,
      subnet: ipam?.subnet,
      gateway: ipam?.gateway,
      labels: labelList({...n.labels, ...projectLabels(project), [L.network]: key}),
    })
    progress.event('Network', n.name, 'Created')
  }
}

export async function ensureVolumes(ctx: Context, project: ComposeProject, keys: readonly string[], progress: Progress): Promise<void> {
  const existing = new Map((await volumes.list(ctx)).map((v) => [v.volume.name, v]))
  for (const key of keys) {
    const v = project.volumes[key]!
    const found = existing.get(v.name)
    if (v.external) {
      if (!found) throw new ComposeRunError(`external volume "${v.name}" not found`)
      continue
    }
    if (found) continue
    progress.event('Volume', v.name, 'Creating')
    await volumes.create(ctx, {
      name: v.name,
      driver: v.driver,
      labels: labelList({...v.labels, ...projectLabels(project), [L.volume]: key}),
      options: Object.entries(v.driver_opts).map(([k, val]) => `${k}=${val}`),
    })
    progress.event('Volume', v.name, 'Created')
  }
}

/**
 * `down`: the project's networks (the file's, and any other labelled with the project), then with
 * `withVolumes` its volumes. A network still used by another container stays, with a warning.
 */
export async function removeResources(ctx: Context, project: ComposeProject | string, withVolumes: boolean, progress: Progress): Promise<void> {
  const name = typeof project === 'string' ? project : project.name
  const declaredNets = typeof project === 'string' ? [] : Object.values(project.networks).filter((n) => !n.external).map((n) => n.name)
  for (const {net, containers} of await networks.networkList(ctx)) {
    const ours = net.labels[L.project] === name
    if (!ours || (declaredNets.length > 0 && !declaredNets.includes(net.name) && net.labels[L.network] === undefined)) continue
    if (containers.length > 0) {
      progress.warn(`network ${net.name} is still in use by ${containers.map((c) => c.name).join(', ')}: not removed`)
      continue
    }
    progress.event('Network', net.name, 'Removing')
    await networks.networkRemove(ctx, net.name)
    progress.event('Network', net.name, 'Removed')
  }
  if (!withVolumes) return
  const externalVols = typeof project === 'string' ? [] : Object.values(project.volumes).filter((v) => v.external).map((v) => v.name)
  for (const {volume: v} of await volumes.list(ctx)) {
    if (v.labels[L.project] !== name || externalVols.includes(v.name)) continue
    progress.event('Volume', v.name, 'Removing')
    try {
      await volumes.remove(ctx, v.name)
      progress.event('Volume', v.name, 'Removed')
    } catch (err) {
      progress.warn(`volume ${v.name}: ${(err as Error).message}`)
    }
  }
}
