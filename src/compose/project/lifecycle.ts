/**
 * start, stop, restart, kill and rm of a project's existing containers: dependencies first for
 * start, dependents first for the others, as docker compose orders them.
 */
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'
import {ComposeRunError} from '../../errors.js'
import type {ComposeProject} from '../model/types.js'
import {serviceOrder} from './order.js'
import type {Progress} from './progress.js'
import {type ProjectContainer, projectContainers} from './state.js'

/** The containers of `services` (all when empty, dependencies included for start), by service in `order`. */
async function inOrder(ctx: Context, project: ComposeProject, services: readonly string[], reverse: boolean, withDeps: boolean): Promise<ProjectContainer[][]> {
  const order = serviceOrder(project, services, {noDeps: !withDeps})
  const list = await projectContainers(ctx, project.name, {all: true})
  const groups = order.map((s) => list.filter((c) => c.service === s))
  return reverse ? groups.reverse() : groups
}

export async function startServices(ctx: Context, project: ComposeProject, services: readonly string[], progress: Progress): Promise<void> {
  const groups = await inOrder(ctx, project, services, false, true)
  if (groups.every((g) => g.length === 0)) throw new ComposeRunError('no containers to start (run `compose up` first)')
  for (const g of groups) {
    for (const c of g) {
      if (c.summary.status.running) continue
      progress.event('Container', c.name, 'Starting')
      await containers.start(ctx, c.id)
      progress.event('Container', c.name, 'Started')
    }
  }
}

export async function stopServices(ctx: Context, project: ComposeProject, services: readonly string[], timeoutSec: number | undefined, progress: Progress): Promise<void> {
  for (const g of await inOrder(ctx, project, services, true, false)) {
    await Promise.all(
      g
        .filter((c) => c.summary.status.running)
        .map(async (c) => {
          progress.event('Container', c.name, 'Stopping')
          await containers.stop(ctx, c.id, timeoutSec)
          progress.event('Container', c.name, 'Stopped')
        }),
    )
  }
}

export async function restartServices(ctx: Context, project: ComposeProject, services: readonly string[], timeoutSec: number | undefined, progress: Progress): Promise<void> {
  await stopServices(ctx, project, services, timeoutSec, progress)
  for (const g of await inOrder(ctx, project, services, false, false)) {
    for (const c of g) {
      progress.event('Container', c.name, 'Starting')
      await containers.start(ctx, c.id)
      progress.event('Container', c.name, 'Started')
    }
  }
}

export async function killServices(ctx: Context, project: ComposeProject, services: readonly string[], signal: string, progress: Progress): Promise<void> {
  for (const g of await inOrder(ctx, project, services, true, false)) {
    for (const c of g) {
      if (!c.summary.status.running) continue
      progress.event('Container', c.name, 'Killing')
      await containers.kill(ctx, c.id, signal)
      progress.event('Container', c.name, 'Killed')
    }
  }
}

/** The stopped containers `rm` would remove (all of them with `stop`, which stops them first). */
export async function removableContainers(ctx: Context, project: ComposeProject, services: readonly string[], stopFirst: boolean): Promise<ProjectContainer[]> {
  const groups = await inOrder(ctx, project, services, true, false)
  return groups.flat().filter((c) => stopFirst || !c.summary.status.running)
}

export async function removeContainers(ctx: Context, list: readonly ProjectContainer[], o: {stop: boolean; volumes: boolean; timeoutSec?: number; progress: Progress}): Promise<void> {
  for (const c of list) {
    if (o.stop && c.summary.status.running) {
      o.progress.event('Container', c.name, 'Stopping')
      await containers.stop(ctx, c.id, o.timeoutSec)
      o.progress.event('Container', c.name, 'Stopped')
    }
    o.progress.event('Container', c.name, 'Removing')
    await containers.remove(ctx, c.id, {force: o.stop, volumes: o.volumes})
    o.progress.event('Container', c.name, 'Removed')
  }
}
