/**
 * `compose down`: the project's containers stopped (dependents first) and removed, then its
 * networks, with -v its volumes (and the containers' anonymous ones), with --rmi its images.
 */
import type {Context} from '../../context.js'
import * as images from '../../engine/images.js'
import type {ComposeProject} from '../model/types.js'
import {stopAndRemove} from './converge.js'
import {serviceImage} from './labels.js'
import {serviceOrder} from './order.js'
import type {Progress} from './progress.js'
import {removeResources} from './resources.js'
import {type ProjectContainer, projectContainers} from './state.js'

export interface DownOptions {
  volumes?: boolean
  removeOrphans?: boolean
  /** --rmi all|local */
  rmi?: 'all' | 'local'
  timeoutSec?: number
  progress: Progress
}

/** Stops and removes containers, dependents before their dependencies (reverse `up` order), each service's in parallel. */
export async function removeInOrder(ctx: Context, project: ComposeProject | undefined, list: ProjectContainer[], o: {timeoutSec?: number; volumes?: boolean; progress: Progress}): Promise<void> {
  const order = project ? serviceOrder(project) : []
  const rank = (c: ProjectContainer) => {
    const i = order.indexOf(c.service)
    return i === -1 ? Number.MAX_SAFE_INTEGER : i
  }
  const groups = new Map<number, ProjectContainer[]>()
  for (const c of list) groups.set(rank(c), [...(groups.get(rank(c)) ?? []), c])
  for (const r of [...groups.keys()].sort((a, b) => b - a)) {
    await Promise.all(groups.get(r)!.map((c) => stopAndRemove(ctx, c, o, o.progress)))
  }
}

/** `project`: the model, or only a project name (down -p NAME without a file). */
export async function down(ctx: Context, project: ComposeProject | string, o: DownOptions): Promise<void> {
  const model = typeof project === 'string' ? undefined : project
  const name = typeof project === 'string' ? project : project.name
  const all = await projectContainers(ctx, name, {all: true, oneoff: true})
  const known = (c: ProjectContainer) => !model || model.services[c.service] !== undefined || model.disabledServices[c.service] !== undefined
  const orphans = all.filter((c) => !known(c))
  const targets = all.filter((c) => known(c) || o.removeOrphans)
  if (orphans.length > 0 && !o.removeOrphans) {
    o.progress.warn(`Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`)
  }
  await removeInOrder(ctx, model, targets, o)
  await removeResources(ctx, project, o.volumes === true, o.progress)
  if (o.rmi && model) {
    const refs = new Set<string>()
    for (const s of Object.values(model.services)) if (o.rmi === 'all' || !s.image) refs.add(serviceImage(model, s))
    for (const ref of refs) {
      const res = await images.removeImages(ctx, [ref], {force: false})
      if (res.errors.length === 0) o.progress.event('Image', ref, 'Removed')
      else o.progress.warn(`image ${ref}: ${(res.errors[0] as Error).message}`)
    }
  }
}
