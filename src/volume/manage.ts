import {UsageError} from '../errors.js'
import type {StoreLayout} from '../paths.js'
import {
  ANONYMOUS_LABEL,
  createVolume as storeCreate,
  getVolume,
  listVolumes as storeList,
  removeVolume as storeRemove,
  volumeDataDir,
  volumeRefs,
  type VolumeRecord,
} from '../store/volumes.js'
import {matchVolume, parseDriverOptions, parseLabels, parseVolumeFilters, type VolumeFacts} from './parse.js'

/**
 * `volume create|ls|inspect|rm|prune` over the store's volumes. Whether a container still exists
 * is the caller's knowledge (`exists`): a volume is in use while one of its refs names one.
 */
export type ContainerExists = (containerId: string) => boolean

export interface VolumeSummary {
  volume: VolumeRecord
  mountpoint: string
  inUse: boolean
  /** The containers using it. */
  users: string[]
}

/** docker's `volume inspect` document. */
export interface VolumeInspect {
  CreatedAt: string
  Driver: string
  Labels: Record<string, string>
  Mountpoint: string
  Name: string
  Options: Record<string, string>
  Scope: 'local'
}

async function summarize(store: StoreLayout, v: VolumeRecord, exists: ContainerExists): Promise<VolumeSummary> {
  const users = (await volumeRefs(store, v.name)).filter(exists)
  return {volume: v, mountpoint: volumeDataDir(store, v.name), inUse: users.length > 0, users}
}

function facts(s: VolumeSummary): VolumeFacts {
  return {name: s.volume.name, driver: s.volume.driver, labels: s.volume.labels, inUse: s.inUse, anonymous: ANONYMOUS_LABEL in s.volume.labels}
}

export interface CreateVolumeOptions {
  name?: string
  driver?: string
  /** --label K=V */
  labels?: string[]
  /** -o KEY=VALUE */
  options?: string[]
}

/** `volume create`: the volume's name (an existing volume of that name is returned as it is). */
export async function createVolume(store: StoreLayout, opts: CreateVolumeOptions): Promise<VolumeRecord> {
  if (opts.driver !== undefined && opts.driver !== 'local') {
    throw new UsageError(`error looking up volume plugin ${opts.driver}: only the local driver exists`)
  }
  const {volume} = await storeCreate(store, {name: opts.name, labels: parseLabels(opts.labels ?? []), options: parseDriverOptions(opts.options ?? [])})
  return volume
}

/** `volume ls`, by name; filters dangling, name, label, driver. */
export async function listVolumes(store: StoreLayout, exists: ContainerExists, filterList: readonly string[] = []): Promise<VolumeSummary[]> {
  const filters = parseVolumeFilters(filterList, ['dangling', 'name', 'label', 'label!', 'driver'])
  const out: VolumeSummary[] = []
  for (const v of await storeList(store)) {
    const s = await summarize(store, v, exists)
    if (matchVolume(facts(s), filters)) out.push(s)
  }
  return out
}

/** `volume inspect`: docker's document for one volume (NotFoundError when missing). */
export async function inspectVolume(store: StoreLayout, name: string): Promise<VolumeInspect> {
  const v = await getVolume(store, name)
  return {
    CreatedAt: v.createdAt,
    Driver: v.driver,
    Labels: v.labels,
    Mountpoint: volumeDataDir(store, v.name),
    Name: v.name,
    Options: v.options,
    Scope: 'local',
  }
}

/** `volume rm`: refused while a container (running or not) uses it, as docker does even with -f. */
export async function removeVolume(store: StoreLayout, name: string, exists: ContainerExists): Promise<void> {
  await storeRemove(store, name, exists)
}

/**
 * `volume prune`: the volumes no container uses; only anonymous ones unless `all` (docker 23+),
 * filtered by label / label!. Returns the names removed and the bytes they held.
 */
export async function pruneVolumes(
  store: StoreLayout,
  exists: ContainerExists,
  opts: {all?: boolean; filters?: readonly string[]; sizeOf?: (dir: string) => Promise<number>},
): Promise<{removed: string[]; bytes: number}> {
  const filters = parseVolumeFilters(opts.filters ?? [], ['label', 'label!', 'all'])
  const all = opts.all === true || (filters.get('all') ?? []).some((v) => v === 'true' || v === '1')
  filters.delete('all')
  const removed: string[] = []
  let bytes = 0
  for (const v of await storeList(store)) {
    const s = await summarize(store, v, exists)
    if (s.inUse || (!all && !(ANONYMOUS_LABEL in v.labels)) || !matchVolume(facts(s), filters)) continue
    const size = opts.sizeOf ? await opts.sizeOf(s.mountpoint) : 0
    try {
      await storeRemove(store, v.name, exists)
    } catch {
      continue // taken into use meanwhile
    }
    removed.push(v.name)
    bytes += size
  }
  return {removed, bytes}
}
