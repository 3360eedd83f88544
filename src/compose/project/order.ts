/**
 * Which services a command acts on, and in which order: dependencies (depends_on, plus the
 * services named by network_mode service:X and volumes_from service:X) before their dependents.
 */
import {UsageError} from '../../errors.js'
import type {ComposeProject, ServiceConfig} from '../model/types.js'

/** The services `service` needs started first (names), whatever the condition. */
export function dependenciesOf(service: ServiceConfig): string[] {
  const deps = new Set(Object.keys(service.depends_on))
  const mode = service.network_mode
  if (mode?.startsWith('service:')) deps.add(mode.slice('service:'.length))
  for (const from of service.volumes_from) {
    const [src] = from.split(':')
    if (src && !from.startsWith('container:')) deps.add(src)
  }
  return [...deps]
}

/**
 * The services to act on in dependency order: `selected` (all services when empty), with their
 * dependencies (transitively) unless `noDeps`. An unknown service, a missing required
 * dependency or a cycle is a UsageError.
 */
export function serviceOrder(project: ComposeProject, selected: readonly string[] = [], opts: {noDeps?: boolean} = {}): string[] {
  for (const name of selected) {
    if (!project.services[name]) {
      const why = project.disabledServices[name] ? ` (its profiles are not enabled: ${project.disabledServices[name]!.profiles.join(', ')})` : ''
      throw new UsageError(`no such service: ${name}${why}`)
    }
  }
  const roots = selected.length > 0 ? [...selected] : Object.keys(project.services)
  const order: string[] = []
  const state = new Map<string, 'visiting' | 'done'>()
  const rootSet = new Set(roots)
  const visit = (name: string, path: string[]) => {
    const s = state.get(name)
    if (s === 'done') return
    if (s === 'visiting') throw new UsageError(`dependency cycle detected: ${[...path, name].join(' -> ')}`)
    const svc = project.services[name]
    if (!svc) return
    state.set(name, 'visiting')
    for (const dep of dependenciesOf(svc)) {
      if (!project.services[dep]) {
        if (svc.depends_on[dep]?.required === false || opts.noDeps) continue
        throw new UsageError(`service ${name} depends on undefined service ${dep}`)
      }
      // --no-deps: only the order among the selected services
      if (opts.noDeps && !rootSet.has(dep)) continue
      visit(dep, [...path, name])
    }
    state.set(name, 'done')
    order.push(name)
  }
  for (const r of roots) visit(r, [])
  return order
}

/** The services that depend on `name` (directly), for stopping dependents first. */
export function dependentsOf(project: ComposeProject, name: string): string[] {
  return Object.values(project.services)
    .filter((s) => dependenciesOf(s).includes(name))
    .map((s) => s.name)
}
