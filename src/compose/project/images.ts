/**
 * The images a project's services run: built (`build:`, through the same builder as `ctr-ts
 * build`) or pulled when missing, as docker compose decides with pull_policy and --build.
 */
import {mkdtemp, rm, writeFile} from 'node:fs/promises'
import {tmpdir} from 'node:os'
import {isAbsolute, join} from 'node:path'
import type {Context} from '../../context.js'
import * as images from '../../engine/images.js'
import {ComposeRunError, NotFoundError} from '../../errors.js'
import type {ComposeProject, ServiceConfig} from '../model/types.js'
import {serviceImage} from './labels.js'
import type {Progress} from './progress.js'

async function hasImage(ctx: Context, ref: string): Promise<boolean> {
  try {
    await images.getImage(ctx, ref)
    return true
  } catch (err) {
    if (err instanceof NotFoundError) return false
    throw err
  }
}

/** Builds a service's image, tagged as docker compose tags it (image:, else PROJECT-SERVICE). */
export async function buildService(ctx: Context, project: ComposeProject, service: ServiceConfig, o: {progress: Progress; output?: NodeJS.WritableStream; noCache?: boolean; pull?: boolean}): Promise<void> {
  const b = service.build!
  if (/^[a-z]+:\/\//.test(b.context) || b.context.startsWith('git@')) throw new ComposeRunError(`service ${service.name}: a build context at a URL (${b.context}) is not supported`)
  const tag = serviceImage(project, service)
  let tmp: string | undefined
  let file: string | undefined
  if (b.dockerfile_inline !== undefined) {
    tmp = await mkdtemp(join(tmpdir(), 'ctr-ts-compose-'))
    file = join(tmp, 'Dockerfile')
    await writeFile(file, b.dockerfile_inline)
  } else if (b.dockerfile !== undefined) file = isAbsolute(b.dockerfile) ? b.dockerfile : join(b.context, b.dockerfile)
  const buildArgs: Record<string, string> = {}
  for (const [k, v] of Object.entries(b.args)) if (v !== null) buildArgs[k] = v
  o.progress.event('Service', service.name, 'Building')
  try {
    await images.buildImage(ctx, {
      contextDir: b.context,
      ...(file ? {file} : {}),
      tags: [tag, ...b.tags],
      buildArgs,
      ...(b.target ? {target: b.target} : {}),
      noCache: o.noCache === true || b.no_cache === true,
      pull: o.pull === true || b.pull === true,
      labels: b.labels,
      ...(b.network && b.network !== 'default' ? {network: b.network} : {}),
      ...(o.output ? {progress: o.output} : {}),
      ...(service.platform ? {platform: service.platform} : {}),
    })
  } catch (err) {
    throw new ComposeRunError(`failed to build service ${service.name}: ${(err as Error).message}`, {cause: err})
  } finally {
    if (tmp) await rm(tmp, {recursive: true, force: true})
  }
  o.progress.event('Service', service.name, 'Built')
}

export async function pullService(ctx: Context, project: ComposeProject, service: ServiceConfig, progress: Progress): Promise<void> {
  const ref = serviceImage(project, service)
  progress.event('Image', ref, 'Pulling')
  await images.pullImage(ctx, ref, {...(service.platform ? {platform: service.platform} : {})})
  progress.event('Image', ref, 'Pulled')
}

/**
 * Makes sure every service has its image: `--build` (or pull_policy build) builds, a missing
 * image is built when the service has `build:`, else pulled; pull_policy always pulls.
 */
export async function ensureImages(ctx: Context, project: ComposeProject, services: readonly string[], o: {build?: boolean; noBuild?: boolean; progress: Progress; buildOutput?: NodeJS.WritableStream}): Promise<void> {
  for (const name of services) {
    const svc = project.services[name]!
    const ref = serviceImage(project, svc)
    const policy = svc.pull_policy ?? 'missing'
    if (svc.build && !o.noBuild && (o.build || policy === 'build' || !(await hasImage(ctx, ref)))) {
      await buildService(ctx, project, svc, {progress: o.progress, output: o.buildOutput})
      continue
    }
    if (policy === 'always' && svc.image) {
      await pullService(ctx, project, svc, o.progress)
      continue
    }
    if (await hasImage(ctx, ref)) continue
    if (policy === 'never') throw new ComposeRunError(`service ${name}: image ${ref} is not present and pull_policy is never`)
    if (!svc.image) throw new ComposeRunError(`service ${name} has neither an image nor a build context specified`)
    await pullService(ctx, project, svc, o.progress)
  }
}

/** The image id a service's containers should run (after ensureImages). */
export async function serviceImageId(ctx: Context, project: ComposeProject, service: ServiceConfig): Promise<string> {
  return (await images.getImage(ctx, serviceImage(project, service))).id
}
