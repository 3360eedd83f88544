/**
 * The containers of one service brought to what the model says: created, started, recreated
 * when their configuration (config-hash label) or image changed, removed above the scale.
 * Everything goes through the engine facade, as `ctr-ts run`/`rm` do.
 */
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'
import * as networks from '../../engine/networks.js'
import {ComposeRunError, NotFoundError} from '../../errors.js'
import type {ComposeProject, ServiceConfig} from '../model/types.js'
import {containerPlan, type NameResolver, type PlanOptions} from './create-options.js'
import {configHash} from './labels.js'
import type {Progress} from './progress.js'
import {networkName, volumeName} from './resources.js'
import {type ProjectContainer, projectContainers} from './state.js'

export interface ConvergeOptions {
  forceRecreate?: boolean
  noRecreate?: boolean
  /** Create only (`up --no-start`, `create`). */
  noStart?: boolean
  timeoutSec?: number
}

/** Names for create options: real network/volume names, and a service's first container. */
export function resolver(project: ComposeProject, known: ReadonlyMap<string, string>): NameResolver {
  return {
    network: (key) => networkName(project, key),
    volume: (key) => volumeName(project, key),
    serviceContainer: (service) => {
      const name = known.get(service)
      if (!name) throw new ComposeRunError(`service ${service} has no container to share (start it first)`)
      return name
    },
  }
}

/** The first container of every service that has one (network_mode/volumes_from service:X). */
export async function firstContainers(ctx: Context, project: ComposeProject): Promise<Map<string, string>> {
  const map = new Map<string, string>()
  for (const c of await projectContainers(ctx, project.name, {all: true})) if (!map.has(c.service)) map.set(c.service, c.name)
  return map
}

/** Creates (and connects to its other networks) one container; its id and name. */
export async function createServiceContainer(ctx: Context, project: ComposeProject, service: ServiceConfig, resolve: NameResolver, o: PlanOptions, progress: Progress): Promise<{id: string; name: string}> {
  const plan = containerPlan(project, service, resolve, o)
  progress.event('Container', plan.name, 'Creating')
  const rec = await containers.create(ctx, plan.create, {onWarning: (m) => progress.warn(m)})
  try {
    for (const c of plan.connect) await networks.networkConnect(ctx, {network: c.network, container: rec.id, aliases: c.aliases, ...(c.ip ? {ip: c.ip} : {})})
  } catch (err) {
    await containers.remove(ctx, rec.id, {force: true}).catch(() => {})
    throw err
  }
  progress.event('Container', plan.name, 'Created')
  return {id: rec.id, name: rec.name}
}

export async function stopAndRemove(ctx: Context, c: ProjectContainer, o: {timeoutSec?: number; volumes?: boolean}, progress: Progress): Promise<void> {
  if (c.summary.status.running) {
    progress.event('Container', c.name, 'Stopping')
    await containers.stop(ctx, c.id, o.timeoutSec).catch(ignoreGone)
    progress.event('Container', c.name, 'Stopped')
  }
  progress.event('Container', c.name, 'Removing')
  await containers.remove(ctx, c.id, {force: true, volumes: o.volumes === true}).catch(ignoreGone)
  progress.event('Container', c.name, 'Removed')
}

function ignoreGone(err: unknown): void {
  if (!(err instanceof NotFoundError)) throw err
}

export async function startContainer(ctx: Context, id: string, name: string, progress: Progress): Promise<void> {
  progress.event('Container', name, 'Starting')
  await containers.start(ctx, id)
  progress.event('Container', name, 'Started')
}

/**
 * Converges one service to `scale` containers; the ids of the containers it should have, in
 * number order, and which of them were created or recreated now.
 */
export async function convergeService(
  ctx: Context,
  project: ComposeProject,
  service: ServiceConfig,
  scale: number,
  imageId: string,
  known: Map<string, string>,
  o: ConvergeOptions,
  progress: Progress,
): Promise<Array<{id: string; name: string; fresh: boolean}>> {
  if (scale > 1 && service.container_name) throw new ComposeRunError(`service ${service.name}: container_name "${service.container_name}" cannot be used with ${scale} replicas (names must be unique)`)
  const existing = await projectContainers(ctx, project.name, {all: true, services: [service.name]})
  for (const c of existing.filter((c) => c.number > scale || c.number < 1)) await stopAndRemove(ctx, c, o, progress)
  const hash = configHash(service)
  const resolve = resolver(project, known)
  const out: Array<{id: string; name: string; fresh: boolean}> = []
  for (let n = 1; n <= scale; n++) {
    const c = existing.find((e) => e.number === n)
    let id: string
    let name: string
    let fresh = false
    if (c) {
      const outdated = !o.noRecreate && (o.forceRecreate || c.configHash !== hash || c.summary.record.image !== imageId)
      if (outdated) {
        progress.event('Container', c.name, 'Recreate')
        await stopAndRemove(ctx, c, o, silentLike(progress))
        ;({id, name} = await createServiceContainer(ctx, project, service, resolve, {number: n}, silentLike(progress)))
        progress.event('Container', c.name, 'Recreated')
        fresh = true
      } else {
        id = c.id
        name = c.name
        if (c.summary.status.running) progress.event('Container', c.name, 'Running')
      }
    } else {
      ;({id, name} = await createServiceContainer(ctx, project, service, resolve, {number: n}, progress))
      fresh = true
    }
    if (n === 1) known.set(service.name, name)
    out.push({id, name, fresh})
  }
  return out
}

/** Progress that keeps warnings but not the inner steps of a recreate. */
function silentLike(p: Progress): Progress {
  return {event: () => {}, warn: (m) => p.warn(m)}
}
