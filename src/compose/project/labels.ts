/**
 * docker compose's labels on what a project creates (containers, networks, volumes), and the
 * config hash by which `up` decides whether a container still matches its service.
 */
import {createHash} from 'node:crypto'
import {COMPOSE_LABELS, type ComposeProject, type ServiceConfig} from '../model/types.js'

export {COMPOSE_LABELS as L}

/** What `com.docker.compose.version` says: the compose specification level ctr-ts follows. */
export const COMPOSE_VERSION = '2.29.0'

/** The labels every object of the project carries. */
export function projectLabels(project: ComposeProject): Record<string, string> {
  return {
    [COMPOSE_LABELS.project]: project.name,
    [COMPOSE_LABELS.version]: COMPOSE_VERSION,
  }
}

/** docker's label value form, KEY=VALUE lines for the engine's `labels` options. */
export function labelList(labels: Record<string, string>): string[] {
  return Object.entries(labels).map(([k, v]) => `${k}=${v}`)
}

/** JSON with object keys sorted: the same model gives the same text. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      return Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    }
    return v
  })
}

/**
 * compose-go's ServiceHash: the service's configuration without what does not change a
 * container (build, pull policy, the number of replicas), hashed. Containers whose label differs
 * are recreated by `up`.
 */
export function configHash(service: ServiceConfig): string {
  const {build: _build, pull_policy: _pull, scale: _scale, deploy, ...rest} = service
  const kept = deploy ? {...rest, deploy: {...deploy, replicas: 1}} : rest
  return createHash('sha256').update(canonical(kept)).digest('hex')
}

/** The labels of one container of a service. */
export function containerLabels(project: ComposeProject, service: ServiceConfig, number: number, oneoff: boolean): Record<string, string> {
  const dependsOn = Object.entries(service.depends_on).map(([name, d]) => `${name}:${d.condition}:${d.restart}`)
  return {
    ...service.labels,
    ...projectLabels(project),
    [COMPOSE_LABELS.service]: service.name,
    [COMPOSE_LABELS.containerNumber]: String(number),
    [COMPOSE_LABELS.oneoff]: oneoff ? 'True' : 'False',
    [COMPOSE_LABELS.configHash]: configHash(service),
    [COMPOSE_LABELS.projectWorkingDir]: project.workingDir,
    [COMPOSE_LABELS.projectConfigFiles]: project.composeFiles.join(','),
    [COMPOSE_LABELS.dependsOn]: dependsOn.join(','),
  }
}

/** The image a service runs: `image:`, else the one `build:` makes (PROJECT-SERVICE, as docker compose names it). */
export function serviceImage(project: ComposeProject, service: ServiceConfig): string {
  return service.image ?? `${project.name}-${service.name}`
}

/** A container's name: container_name, else PROJECT-SERVICE-N. */
export function containerName(project: ComposeProject, service: ServiceConfig, number: number): string {
  return service.container_name ?? `${project.name}-${service.name}-${number}`
}
