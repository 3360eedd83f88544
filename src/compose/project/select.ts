/** The container a `compose exec|port|...` means: SERVICE and --index N. */
import type {Context} from '../../context.js'
import {ComposeRunError} from '../../errors.js'
import type {ComposeProject} from '../model/types.js'
import {serviceOrder} from './order.js'
import {type ProjectContainer, projectContainers} from './state.js'

export async function serviceContainer(ctx: Context, project: ComposeProject, service: string, o: {index?: number; running?: boolean} = {}): Promise<ProjectContainer> {
  serviceOrder(project, [service], {noDeps: true})
  const list = await projectContainers(ctx, project.name, {all: true, services: [service]})
  const index = o.index ?? 1
  const c = list.find((x) => x.number === index) ?? (o.index === undefined ? list[0] : undefined)
  if (!c) throw new ComposeRunError(`service "${service}" has no container${o.index !== undefined ? ` with index ${index}` : ''}`)
  if (o.running && !c.summary.status.running) throw new ComposeRunError(`service "${service}" is not running`)
  return c
}
