/**
 * More of the container facade: rename, diff, top, stats, pause/unpause, prune (and cp in
 * engine/copy.ts). Same rules as engine/containers.ts: typed options in, results out, no printing.
 */
import {totalmem} from 'node:os'
import type {Context} from '../context.js'
import {type Change, containerChanges} from '../container/diff.js'
import {containerPids, networkBytes, sampleProcesses, topProcesses} from '../container/processes.js'
import {pruneContainers, type PruneFilters} from '../container/prune.js'
import {type ContainerRecord, findContainer, listContainers} from '../container/record.js'
import {renameContainer} from '../container/rename.js'
import {containerStatus} from '../container/status.js'
import {ConflictError} from '../errors.js'
import {recordContainerEvent} from '../events/journal.js'
import {setFrozen} from '../runtime/freezer.js'
import {resolveRuntime} from '../runtime/runtime.js'

export type {Change, PruneFilters}

/** docker rename. */
export async function rename(ctx: Context, container: string, newName: string): Promise<void> {
  const rec = await findContainer(ctx, container)
  const renamed = await renameContainer(ctx, rec, newName)
  recordContainerEvent(ctx.store, renamed, 'rename', {oldName: `/${rec.name}`})
}

/** docker diff: what the container changed in its filesystem (A/C/D), sorted by path. */
export async function diff(ctx: Context, container: string): Promise<Change[]> {
  return containerChanges(ctx, await findContainer(ctx, container))
}

/** docker top: `ps` output (with `psArgs`, default -ef) limited to the container's processes. */
export async function top(ctx: Context, container: string, psArgs: string[]) {
  return topProcesses(ctx, await findContainer(ctx, container), psArgs)
}

/** docker pause / unpause: the freezer (cgroup v2 delegated only; a clear error elsewhere). */
export async function setPaused(ctx: Context, container: string, paused: boolean): Promise<void> {
  const rec = await findContainer(ctx, container)
  const s = containerStatus(ctx, rec)
  if (!s.running || !s.shimPid) throw new ConflictError(`container ${rec.name} is not running`)
  await setFrozen(resolveRuntime(ctx, rec.runtime), s.shimPid, rec.id, paused)
  recordContainerEvent(ctx.store, rec, paused ? 'pause' : 'unpause')
}

/** docker container prune. */
export async function prune(ctx: Context, filters: PruneFilters) {
  return pruneContainers(ctx, filters)
}

/** One row of docker stats; a figure that cannot be read is undefined (printed `--`). */
export interface StatsRow {
  id: string
  name: string
  running: boolean
  cpuPercent?: number
  memUsage?: number
  memLimit?: number
  netRx?: number
  netTx?: number
  blockRead?: number
  blockWrite?: number
  pids?: number
}

const CLK_TCK = 100

/**
 * docker stats: one sample per container over `intervalMs` (CPU % needs two readings).
 * `names` empty: the running containers (all with `all`).
 */
export async function stats(ctx: Context, names: string[], opts: {all: boolean; intervalMs: number}): Promise<StatsRow[]> {
  const recs: ContainerRecord[] =
    names.length > 0 ? await Promise.all(names.map((n) => findContainer(ctx, n))) : (await listContainers(ctx)).filter((r) => opts.all || containerStatus(ctx, r).running)
  const first = recs.map((rec) => {
    const s = containerStatus(ctx, rec)
    if (!s.running || !s.containerPid) return undefined
    try {
      const pids = containerPids(ctx, rec)
      return {pids, init: s.containerPid, sample: sampleProcesses(pids), at: performance.now()}
    } catch {
      return undefined
    }
  })
  if (first.some(Boolean)) await new Promise((r) => setTimeout(r, opts.intervalMs))
  return recs.map((rec, i) => {
    const f = first[i]
    if (!f) return {id: rec.id, name: rec.name, running: false, cpuPercent: 0, memUsage: 0, memLimit: 0, netRx: 0, netTx: 0, blockRead: 0, blockWrite: 0, pids: 0}
    const now = sampleProcesses(f.pids)
    const seconds = (performance.now() - f.at) / 1000
    const net = networkBytes(f.init)
    return {
      id: rec.id,
      name: rec.name,
      running: true,
      cpuPercent: seconds > 0 ? (Math.max(0, now.cpuTicks - f.sample.cpuTicks) / CLK_TCK / seconds) * 100 : undefined,
      memUsage: now.rssBytes,
      // no cgroup limit rootless on cgroup v1: docker shows the host's memory then
      memLimit: totalmem(),
      netRx: net?.rx,
      netTx: net?.tx,
      blockRead: now.blockRead,
      blockWrite: now.blockWrite,
      pids: now.pids,
    }
  })
}
