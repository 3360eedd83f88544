import {UsageError} from '../errors.js'
import type {StoreLayout} from '../paths.js'
import type {BindMount, Propagation, TmpfsMount} from '../spec/flags.js'
import {parseVolume} from '../spec/flags.js'
import {releaseVolumes, removeVolume, useVolume, volumeDataDir, type VolumeRecord} from '../store/volumes.js'
import {parseVolumeFlag, type VolumeRequest} from './parse.js'

/**
 * A container's volumes and bind mounts: what `create` decides (kept in the container record),
 * how they become OCI mounts, and docker's `Mounts` entries for inspect.
 */

/** One mount of a container's record (docker's MountPoint). --tmpfs mounts are not here. */
export interface ContainerMount {
  type: 'volume' | 'bind'
  /** The volume's name (type volume). */
  name?: string
  /** Host path: a volume's data directory (or its bind device), a bind mount's host path. */
  source: string
  destination: string
  readOnly: boolean
  /** An anonymous volume (image VOLUME, `-v /path`): removed with the container by `rm -v` and `--rm`. */
  anonymous?: boolean
  /** Never seeded from the image (nocopy, volume-nocopy). */
  noCopy?: boolean
  /** The local driver's options of the volume (type=tmpfs, o=bind), copied at create. */
  driverOptions?: Record<string, string>
  /** Bind mounts: the propagation asked for. */
  propagation?: Propagation
}

/** What a container asks for, before any volume exists. */
export interface MountRequests {
  /** The image config's Volumes (anonymous volumes unless something else is mounted there). */
  imageVolumes: readonly string[]
  /** The mounts of --volumes-from containers, their mode already applied. */
  volumesFrom: readonly ContainerMount[]
  /** -v values (binds, named and anonymous volumes). */
  volumeFlags: readonly string[]
  /** --mount type=volume requests. */
  volumeMounts: readonly VolumeRequest[]
  /** --tmpfs destinations: image volumes and volumes-from give way to them. */
  tmpfsDestinations: ReadonlySet<string>
}

type Wanted = {kind: 'volume'; req: VolumeRequest} | {kind: 'bind'; bind: BindMount} | {kind: 'from'; mount: ContainerMount}

/**
 * docker's precedence by destination: image volumes, then --volumes-from, then -v and --mount
 * (two of those on one destination are an error). Pure; -v bind paths are checked to exist.
 */
export function planMounts(r: MountRequests): Wanted[] {
  const byDest = new Map<string, Wanted>()
  for (const dest of r.imageVolumes) {
    const d = dest.replace(/(.)\/+$/, '$1')
    if (!r.tmpfsDestinations.has(d)) byDest.set(d, {kind: 'volume', req: {destination: d, readOnly: false, noCopy: false}})
  }
  for (const m of r.volumesFrom) if (!r.tmpfsDestinations.has(m.destination)) byDest.set(m.destination, {kind: 'from', mount: m})
  const explicit = new Set<string>()
  const add = (dest: string, w: Wanted) => {
    if (explicit.has(dest)) throw new UsageError(`duplicate mount point: ${dest}`)
    explicit.add(dest)
    byDest.set(dest, w)
  }
  for (const spec of r.volumeFlags) {
    const f = parseVolumeFlag(spec)
    if (f.kind === 'bind') {
      const bind = parseVolume(f.spec)
      add(bind.destination, {kind: 'bind', bind})
    } else {
      const {kind: _, ...req} = f
      add(req.destination, {kind: 'volume', req})
    }
  }
  for (const req of r.volumeMounts) add(req.destination, {kind: 'volume', req})
  return [...byDest.values()]
}

function fromVolume(v: VolumeRecord, store: StoreLayout, req: VolumeRequest, anonymous: boolean): ContainerMount {
  const opts = v.options
  const bindDevice = (opts.o ?? '').split(',').includes('bind') ? opts.device : undefined
  return {
    type: 'volume',
    name: v.name,
    source: bindDevice ?? volumeDataDir(store, v.name),
    destination: req.destination,
    readOnly: req.readOnly,
    ...(anonymous ? {anonymous: true} : {}),
    ...(req.noCopy ? {noCopy: true} : {}),
    ...(Object.keys(opts).length > 0 ? {driverOptions: opts} : {}),
  }
}

/**
 * Makes the planned mounts real for container `containerId`: creates the volumes that are missing
 * (anonymous ones get fresh names) and records the container's use of each. On failure what was
 * done is undone.
 */
export async function attachMounts(store: StoreLayout, planned: readonly Wanted[], containerId: string): Promise<ContainerMount[]> {
  const out: ContainerMount[] = []
  const created: string[] = []
  try {
    for (const w of planned) {
      if (w.kind === 'bind') {
        const b = w.bind
        out.push({type: 'bind', source: b.source, destination: b.destination, readOnly: b.readOnly, ...(b.propagation ? {propagation: b.propagation} : {})})
      } else if (w.kind === 'from') {
        if (w.mount.type === 'volume') {
          const {volume} = await useVolume(store, {name: w.mount.name!}, containerId, {mustExist: true})
          out.push(fromVolume(volume, store, {destination: w.mount.destination, readOnly: w.mount.readOnly, noCopy: w.mount.noCopy === true}, w.mount.anonymous === true))
        } else {
          out.push({...w.mount})
        }
      } else {
        const anonymous = w.req.name === undefined
        const r = await useVolume(store, {name: w.req.name, labels: w.req.labels, options: w.req.options}, containerId)
        if (r.created) created.push(r.volume.name)
        out.push(fromVolume(r.volume, store, w.req, anonymous))
      }
    }
  } catch (err) {
    // the refs written so far, and the volumes made here (named ones too: nothing else knows them yet)
    await releaseVolumes(store, volumeNames(out), containerId).catch(() => undefined)
    for (const name of created) await removeVolume(store, name, (id) => id !== containerId).catch(() => undefined)
    throw err
  }
  return out
}

/** The names of the volumes among a container's mounts. */
export function volumeNames(mounts: readonly ContainerMount[] | undefined): string[] {
  return (mounts ?? []).filter((m) => m.type === 'volume' && m.name).map((m) => m.name!)
}

/**
 * Container `containerId` lets go of its volumes; with `removeAnonymous` (`rm -v`, `--rm`) its
 * anonymous volumes are removed unless another container (`inUse`) still uses them.
 */
export async function detachMounts(
  store: StoreLayout,
  mounts: readonly ContainerMount[] | undefined,
  containerId: string,
  opts: {removeAnonymous: boolean; inUse: (containerId: string) => boolean},
): Promise<void> {
  await releaseVolumes(store, volumeNames(mounts), containerId)
  if (!opts.removeAnonymous) return
  for (const m of mounts ?? []) {
    if (m.type !== 'volume' || !m.anonymous || !m.name) continue
    // docker leaves a volume another container uses (and says nothing)
    await removeVolume(store, m.name, (id) => id !== containerId && opts.inUse(id)).catch(() => undefined)
  }
}

/** The OCI mounts of a container's volumes and binds: bind mounts, and a tmpfs per tmpfs volume. */
export function specMounts(mounts: readonly ContainerMount[] | undefined): {binds: BindMount[]; tmpfs: TmpfsMount[]} {
  const binds: BindMount[] = []
  const tmpfs: TmpfsMount[] = []
  for (const m of mounts ?? []) {
    if (m.driverOptions?.type === 'tmpfs') {
      const o = (m.driverOptions.o ?? '').split(',').filter((x) => x && x !== 'ro' && x !== 'rw')
      tmpfs.push({destination: m.destination, options: [...o, m.readOnly ? 'ro' : 'rw']})
      continue
    }
    const ro = m.readOnly || (m.driverOptions?.o ?? '').split(',').includes('ro')
    binds.push({source: m.source, destination: m.destination, readOnly: ro, ...(m.propagation ? {propagation: m.propagation} : {})})
  }
  return {binds, tmpfs}
}

/** The volumes to seed with the image's content when empty (docker's copy-up): plain local volumes without nocopy. */
export function seedableMounts(mounts: readonly ContainerMount[] | undefined): ContainerMount[] {
  return (mounts ?? []).filter((m) => m.type === 'volume' && !m.noCopy && !m.driverOptions)
}

export interface MountPointInspect {
  Type: 'volume' | 'bind'
  Name?: string
  Source: string
  Destination: string
  Driver?: string
  Mode: string
  RW: boolean
  Propagation: string
}

/** docker's `Mounts` entries of `inspect` for a container's mounts. */
export function inspectMounts(mounts: readonly ContainerMount[] | undefined): MountPointInspect[] {
  return (mounts ?? []).map((m): MountPointInspect =>
    m.type === 'volume'
      ? {Type: 'volume', Name: m.name ?? '', Source: m.source, Destination: m.destination, Driver: 'local', Mode: m.readOnly ? 'ro' : 'z', RW: !m.readOnly, Propagation: ''}
      : {Type: 'bind', Source: m.source, Destination: m.destination, Mode: m.readOnly ? 'ro' : '', RW: !m.readOnly, Propagation: m.propagation ?? 'rprivate'},
  )
}

/** The mounts --volumes-from copies from a container, with its `:ro`/`:rw` mode applied. */
export function mountsFrom(mounts: readonly ContainerMount[] | undefined, mode?: 'ro' | 'rw'): ContainerMount[] {
  return (mounts ?? []).map((m) => ({...m, readOnly: mode === undefined ? m.readOnly : mode === 'ro'}))
}
