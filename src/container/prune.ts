import type {Context} from '../context.js'
import {removeContainer} from './lifecycle.js'
import {type ContainerRecord, listContainers} from './record.js'
import {containerStatus} from './status.js'

export interface PruneFilters {
  /** Only containers created before this time (ms since the epoch). */
  untilMs?: number
  /** `key`, `key=value`; `label!=...` entries in `labelNot`. */
  label?: string[]
  labelNot?: string[]
}

function labelMatches(rec: ContainerRecord, spec: string): boolean {
  const eq = spec.indexOf('=')
  const labels = rec.labels ?? {}
  return eq === -1 ? spec in labels : labels[spec.slice(0, eq)] === spec.slice(eq + 1)
}

/** docker container prune: removes every stopped container the filters select; ids removed, in order. */
export async function pruneContainers(ctx: Context, f: PruneFilters = {}): Promise<{removed: string[]; errors: unknown[]}> {
  const removed: string[] = []
  const errors: unknown[] = []
  for (const rec of await listContainers(ctx)) {
    if (containerStatus(ctx, rec).running) continue
    if (f.untilMs !== undefined && !(Date.parse(rec.created) < f.untilMs)) continue
    if (f.label && !f.label.every((l) => labelMatches(rec, l))) continue
    if (f.labelNot && f.labelNot.some((l) => labelMatches(rec, l))) continue
    try {
      await removeContainer(ctx, rec, false)
      removed.push(rec.id)
    } catch (err) {
      errors.push(err)
    }
  }
  return {removed, errors}
}
