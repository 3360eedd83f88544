/**
 * `compose run`: a one-off container of a service (labelled oneoff, named
 * PROJECT-SERVICE-run-ID), its dependencies brought up first unless --no-deps.
 */
import {randomBytes} from 'node:crypto'
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'
import * as networks from '../../engine/networks.js'
import type {ComposeProject} from '../model/types.js'
import {resolver, firstContainers} from './converge.js'
import {containerPlan, type PlanOptions} from './create-options.js'
import {ensureImages} from './images.js'
import {dependenciesOf} from './order.js'
import type {Progress} from './progress.js'
import {ensureNetworks, ensureVolumes, usedNetworks, usedVolumes} from './resources.js'
import {up, type UpContainer, waitDependencies} from './up.js'

export interface RunOneOffOptions extends Omit<PlanOptions, 'number' | 'oneoff'> {
  noDeps?: boolean
  build?: boolean
  detach: boolean
  session?: containers.SessionOptions
  progress: Progress
  buildOutput?: NodeJS.WritableStream
}

export async function runOneOff(ctx: Context, project: ComposeProject, service: string, o: RunOneOffOptions): Promise<containers.RunResult & {name: string}> {
  const svc = project.services[service]!
  const deps = dependenciesOf(svc).filter((d) => project.services[d])
  if (!o.noDeps && deps.length > 0) {
    const list = await up(ctx, project, {services: deps, progress: o.progress, buildOutput: o.buildOutput})
    const started = new Map<string, UpContainer[]>()
    for (const c of list) started.set(c.service, [...(started.get(c.service) ?? []), c])
    await waitDependencies(ctx, project, service, started, o.progress)
  }
  await ensureNetworks(ctx, project, usedNetworks(project, [service]), o.progress)
  await ensureVolumes(ctx, project, usedVolumes(project, [service]), o.progress)
  await ensureImages(ctx, project, [service], {build: o.build, progress: o.progress, buildOutput: o.buildOutput})
  const name = o.name ?? `${project.name}-${service}-run-${randomBytes(6).toString('hex')}`
  const plan = containerPlan(project, svc, resolver(project, await firstContainers(ctx, project)), {...o, name, number: 1, oneoff: true})
  const rec = await containers.create(ctx, plan.create, {onWarning: (m) => o.progress.warn(m)})
  try {
    for (const c of plan.connect) await networks.networkConnect(ctx, {network: c.network, container: rec.id, aliases: c.aliases})
  } catch (err) {
    await containers.remove(ctx, rec.id, {force: true}).catch(() => {})
    throw err
  }
  if (o.detach || !o.session) {
    await containers.start(ctx, rec.id)
    return {id: rec.id, detached: true, name: rec.name}
  }
  const result = await containers.startAttached(ctx, rec, o.session)
  return result.detached ? {id: rec.id, detached: true, name: rec.name} : {id: rec.id, detached: false, exitCode: result.exitCode, name: rec.name}
}
