/**
 * The volume half of the engine facade: `volume create|ls|inspect|rm|prune` for the front ends.
 * Nothing here prints; the commands do.
 */
import {containerExists} from '../container/lifecycle.js'
import type {Context} from '../context.js'
import * as volumes from '../volume/manage.js'

export type {CreateVolumeOptions, VolumeInspect, VolumeSummary} from '../volume/manage.js'

const exists = (ctx: Context) => (id: string) => containerExists(ctx, id)

/** Creates a volume (or returns the existing one of that name); its name. */
export async function create(ctx: Context, opts: volumes.CreateVolumeOptions): Promise<string> {
  return (await volumes.createVolume(ctx.store, opts)).name
}

/** Volumes by name, with whether a container uses them; `filters`: docker's KEY=VALUE filters. */
export function list(ctx: Context, filters: readonly string[] = []): Promise<volumes.VolumeSummary[]> {
  return volumes.listVolumes(ctx.store, exists(ctx), filters)
}

/** docker's inspect document of a volume. */
export function inspect(ctx: Context, name: string): Promise<volumes.VolumeInspect> {
  return volumes.inspectVolume(ctx.store, name)
}

/** Removes a volume no container uses. */
export function remove(ctx: Context, name: string): Promise<void> {
  return volumes.removeVolume(ctx.store, name, exists(ctx))
}

/** Removes unused volumes (anonymous ones unless `all`). */
export function prune(ctx: Context, opts: {all?: boolean; filters?: readonly string[]}): Promise<{removed: string[]; bytes: number}> {
  // system/info loads execa: only when something is pruned
  const sizeOf = async (dir: string) => (await import('../system/info.js')).diskUsage(dir)
  return volumes.pruneVolumes(ctx.store, exists(ctx), {...opts, sizeOf})
}
