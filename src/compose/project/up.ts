/**
 * `compose up`: networks and volumes first, then the images, then each service in dependency
 * order once its dependencies meet their depends_on conditions; `--wait` waits for every
 * container to run (healthy when it has a healthcheck). Attaching to the logs is the command's.
 */
import type {Context} from '../../context.js'
import {ComposeRunError} from '../../errors.js'
import type {ComposeProject} from '../model/types.js'
import {convergeService, firstContainers, startContainer} from './converge.js'
import {ensureImages, serviceImageId} from './images.js'
import {serviceOrder} from './order.js'
import type {Progress} from './progress.js'
import {ensureNetworks, ensureVolumes, usedNetworks, usedVolumes} from './resources.js'
import {projectContainers, type ProjectContainer} from './state.js'
import {stopAndRemove} from './converge.js'
import {waitCompleted, waitHealthy, waitRunning} from './waits.js'

export interface UpOptions {
  services?: readonly string[]
  build?: boolean
  noBuild?: boolean
  forceRecreate?: boolean
  noRecreate?: boolean
  noDeps?: boolean
  noStart?: boolean
  removeOrphans?: boolean
  wait?: boolean
  /** --wait-timeout, seconds. */
  waitTimeoutSec?: number
  /** --scale SERVICE=N. */
  scale?: Record<string, number>
  /** -t: seconds to stop containers that are recreated. */
  timeoutSec?: number
  progress: Progress
  /** Build output (docker compose writes it to stderr). */
  buildOutput?: NodeJS.WritableStream
}

export interface UpContainer {
  id: string
  name: string
  service: string
  fresh: boolean
}

/** Parses `--scale SERVICE=N` values. */
export function parseScale(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {}
  for (const v of values) {
    const m = /^([^=]+)=(\d+)$/.exec(v)
    if (!m) throw new ComposeRunError(`invalid --scale "${v}": use SERVICE=NUMBER`)
    out[m[1]!] = Number(m[2])
  }
  return out
}

export async function up(ctx: Context, project: ComposeProject, o: UpOptions): Promise<UpContainer[]> {
  const order = serviceOrder(project, o.services ?? [], {noDeps: o.noDeps})
  for (const name of Object.keys(o.scale ?? {})) if (!project.services[name]) throw new ComposeRunError(`no such service: ${name}`)
  const orphans = (await projectContainers(ctx, project.name, {all: true})).filter((c) => !project.services[c.service])
  if (orphans.length > 0) {
    if (o.removeOrphans) for (const c of orphans) await stopAndRemove(ctx, c, {timeoutSec: o.timeoutSec}, o.progress)
    else o.progress.warn(`Found orphan containers (${orphans.map((c) => c.name).join(', ')}) for this project. If you removed or renamed this service in your compose file, you can run this command with the --remove-orphans flag to clean it up.`)
  }
  await ensureNetworks(ctx, project, usedNetworks(project, order), o.progress)
  await ensureVolumes(ctx, project, usedVolumes(project, order), o.progress)
  await ensureImages(ctx, project, order, {build: o.build, noBuild: o.noBuild, progress: o.progress, buildOutput: o.buildOutput})

  const known = await firstContainers(ctx, project)
  const started = new Map<string, UpContainer[]>()
  const all: UpContainer[] = []
  for (const name of order) {
    const svc = project.services[name]!
    if (!o.noStart) await waitDependencies(ctx, project, name, started, o.progress)
    const scale = o.scale?.[name] ?? svc.scale
    const imageId = await serviceImageId(ctx, project, svc)
    const list = await convergeService(ctx, project, svc, scale, imageId, known, {forceRecreate: o.forceRecreate, noRecreate: o.noRecreate, timeoutSec: o.timeoutSec}, o.progress)
    const ups: UpContainer[] = []
    for (const c of list) {
      if (!o.noStart) {
        const running = (await projectContainers(ctx, project.name, {all: true, services: [name]})).find((p) => p.id === c.id)?.summary.status.running
        if (!running) await startContainer(ctx, c.id, c.name, o.progress)
      }
      ups.push({...c, service: name})
    }
    started.set(name, ups)
    all.push(...ups)
  }
  if (o.wait && !o.noStart) await waitAll(ctx, project, all, o)
  return all
}

/** Waits for the depends_on conditions of `service` on the dependencies started by this `up`. */
export async function waitDependencies(ctx: Context, project: ComposeProject, service: string, started: Map<string, UpContainer[]>, progress: Progress): Promise<void> {
  const deps = project.services[service]!.depends_on
  for (const [dep, d] of Object.entries(deps)) {
    const list = started.get(dep)
    if (!list) continue
    for (const c of list) {
      if (d.condition === 'service_healthy') {
        progress.event('Container', c.name, 'Waiting')
        await waitHealthy(ctx, c.id, c.name)
        progress.event('Container', c.name, 'Healthy')
      } else if (d.condition === 'service_completed_successfully') {
        progress.event('Container', c.name, 'Waiting')
        await waitCompleted(ctx, c.id, c.name, dep)
        progress.event('Container', c.name, 'Exited')
      }
    }
  }
}

async function waitAll(ctx: Context, project: ComposeProject, list: UpContainer[], o: UpOptions): Promise<void> {
  // a service others wait on to complete may exit with 0
  const completes = new Set<string>()
  for (const s of Object.values(project.services)) for (const [dep, d] of Object.entries(s.depends_on)) if (d.condition === 'service_completed_successfully') completes.add(dep)
  const work = Promise.all(
    list.map(async (c) => {
      o.progress.event('Container', c.name, 'Waiting')
      await waitRunning(ctx, c.id, c.name, completes.has(c.service))
      o.progress.event('Container', c.name, 'Healthy')
    }),
  )
  if (o.waitTimeoutSec === undefined || o.waitTimeoutSec <= 0) return void (await work)
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ComposeRunError(`timeout waiting for the services to be running and healthy (${o.waitTimeoutSec}s)`)), o.waitTimeoutSec! * 1000)
  })
  try {
    await Promise.race([work, timeout])
  } finally {
    clearTimeout(timer)
  }
}

export type {ProjectContainer}
