/**
 * The listing part of the container facade (docker ps): what `ctr-ts ps` needs, apart from the
 * rest of engine/containers.ts (create, start, exec, networks...), whose modules `ps` would
 * otherwise load at every start. engine/containers.ts re-exports all of it.
 */
import type {Context} from '../context.js'
import {containerMatches, parsePsFilters, type ResolvedPsFilters} from '../container/filter.js'
import {type ContainerRecord, containerPaths, findContainer, listContainers} from '../container/record.js'
import {containerStatus, type ContainerStatus, publishedPorts} from '../container/status.js'
import type {Filters} from '../format/filters.js'
import type {PortMapping} from '../network/ports.js'

export {containerCommand} from '../container/inspect.js'
export {healthSuffix} from '../container/health.js'

export interface ContainerSummary {
  record: ContainerRecord
  status: ContainerStatus
  ports: PortMapping[]
}

export interface ListOptions {
  /** Stopped containers too. */
  all: boolean
  /** docker's `--filter key=value` values (see container/filter.ts). */
  filters?: readonly string[]
  /** Only the `last` newest containers (any state), after filtering: `ps -n`/`-l`. */
  last?: number
}

/** docker ps: running containers, or all with `all`; newest first; filtered as docker does. */
export async function list(ctx: Context, opts: ListOptions): Promise<ContainerSummary[]> {
  const f = parsePsFilters(opts.filters)
  const last = opts.last !== undefined && opts.last > 0 ? opts.last : undefined
  // docker: a status filter or -n/-l lists stopped containers too.
  const all = opts.all || f.has('status') || last !== undefined
  const records = await listContainers(ctx)
  const resolved = await resolvePsFilters(ctx, f, records)
  const out: ContainerSummary[] = []
  for (const record of records) {
    const status = containerStatus(ctx, record)
    if (!all && !status.running) continue
    if (!containerMatches(f, record, status, resolved)) continue
    out.push({record, status, ports: publishedPorts(ctx, record, status)})
    if (last !== undefined && out.length >= last) break
  }
  return out
}

async function resolvePsFilters(ctx: Context, f: Filters, records: ContainerRecord[]): Promise<ResolvedPsFilters> {
  const ancestorIds = new Set<string>()
  const ancestors = f.get('ancestor') ?? []
  // the image store only for --filter ancestor=
  const {resolveImage} = ancestors.length > 0 ? await import('../store/images.js') : {resolveImage: undefined}
  for (const v of ancestors) {
    try {
      ancestorIds.add((await resolveImage!(ctx.store, v)).id)
    } catch {
      // not a local image: matched by the reference the container was created from
    }
  }
  const createdOf = async (key: string): Promise<string | undefined> => {
    const v = f.get(key)?.at(-1)
    if (v === undefined) return undefined
    const rec = records.find((r) => r.id === v || r.name === v) ?? (await findContainer(ctx, v))
    return rec.created
  }
  return {ancestorIds, before: await createdOf('before'), since: await createdOf('since')}
}

/** The bytes a container's writable layer holds (`ps -s`): what the user can read of it. */
export async function writableLayerSize(ctx: Context, container: ContainerRecord): Promise<number> {
  const {diskUsage} = await import('../system/info.js') // only for ps -s
  return diskUsage(containerPaths(ctx, container.id).upper)
}
