/**
 * What a project has in the store, found by docker compose's labels: its containers (by service
 * and number), networks and volumes. Works without the compose file (`ls`, `down -p NAME`).
 */
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'
import {COMPOSE_LABELS as L} from '../model/types.js'

export interface ProjectContainer {
  summary: containers.ContainerSummary
  id: string
  name: string
  service: string
  number: number
  oneoff: boolean
  configHash: string
}

export function toProjectContainer(summary: containers.ContainerSummary): ProjectContainer {
  const labels = summary.record.labels
  return {
    summary,
    id: summary.record.id,
    name: summary.record.name,
    service: labels[L.service] ?? '',
    number: Number(labels[L.containerNumber] ?? '0'),
    oneoff: labels[L.oneoff] === 'True',
    configHash: labels[L.configHash] ?? '',
  }
}

/** The project's containers (running ones, or all), oldest service number first; one-off ones only with `oneoff`. */
export async function projectContainers(ctx: Context, project: string, opts: {all?: boolean; oneoff?: boolean; services?: readonly string[]} = {}): Promise<ProjectContainer[]> {
  const list = await containers.list(ctx, {all: opts.all ?? true, filters: [`label=${L.project}=${project}`]})
  return list
    .map(toProjectContainer)
    .filter((c) => (opts.oneoff ?? false) || !c.oneoff)
    .filter((c) => !opts.services || opts.services.length === 0 || opts.services.includes(c.service))
    .sort((a, b) => (a.service === b.service ? a.number - b.number : a.service < b.service ? -1 : 1))
}

/** A running container's status string for `ls`: running(2), exited(1). */
export function statusCounts(list: ProjectContainer[]): string {
  const counts = new Map<string, number>()
  for (const c of list) {
    const s = c.summary.status
    const key = s.running ? 'running' : s.status === 'created' ? 'created' : s.status === 'paused' ? 'paused' : 'exited'
    counts.set(key, (counts.get(key) ?? 0) + 1)
  }
  return [...counts].map(([k, n]) => `${k}(${n})`).join(', ')
}

/** Every project with at least one container: name, status counts, config files. */
export async function listProjects(ctx: Context, all: boolean): Promise<Array<{name: string; status: string; configFiles: string; workingDir: string}>> {
  const byProject = new Map<string, ProjectContainer[]>()
  for (const s of await containers.list(ctx, {all: true, filters: [`label=${L.project}`]})) {
    const p = s.record.labels[L.project]!
    byProject.set(p, [...(byProject.get(p) ?? []), toProjectContainer(s)])
  }
  const out = []
  for (const [name, list] of [...byProject].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!all && !list.some((c) => c.summary.status.running)) continue
    const first = list[0]!.summary.record.labels
    out.push({name, status: statusCounts(list), configFiles: first[L.projectConfigFiles] ?? '', workingDir: first[L.projectWorkingDir] ?? ''})
  }
  return out
}
