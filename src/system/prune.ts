import {join} from 'node:path'
import type {Context} from '../context.js'
import {containerExists, removeContainer} from '../container/lifecycle.js'
import {releaseOrphanNames} from '../container/names.js'
import {releaseOrphanLeases} from '../container/orphan-leases.js'
import {listContainers, readState} from '../container/record.js'
import {containerStatus, isAlive} from '../container/status.js'
import {garbageCollect} from '../store/gc.js'
import {listImages, removeImage} from '../store/images.js'
import {imagePruneMatches} from '../image/remove.js'
import {parsePruneFilters, pruneMatches} from '../format/filters.js'
import {leasedImages} from '../store/leases.js'
import {removeTree} from '../userns/remove.js'
import {removeLeftovers} from './store-check.js'
import {diskUsage} from './info.js'
import {staleVolumeTemps} from '../store/volumes.js'
import {removeDeadTemps} from '../store/exclusive-file.js'
import {pruneVolumes} from '../volume/manage.js'

export interface PruneResult {
  containers: string[]
  untagged: string[]
  deletedImages: string[]
  layers: string[]
  blobs: string[]
  blobBytes: number
  /** With `volumes`: the anonymous volumes no container uses. */
  volumes: string[]
}

/**
 * `system prune`: removes stopped (and never started) containers; with `all`, every image that
 * no remaining container uses; then blobs and unpacked layers that nothing references
 * (garbageCollect: also keeps what running pulls have leased). Running containers and the images
 * and layers they use are left alone.
 */
export async function pruneSystem(ctx: Context, opts: {all: boolean; filters?: readonly string[]; volumes?: boolean}): Promise<PruneResult> {
  const f = parsePruneFilters(opts.filters)
  const result: PruneResult = {containers: [], untagged: [], deletedImages: [], layers: [], blobs: [], blobBytes: 0, volumes: []}
  for (const rec of await listContainers(ctx)) {
    if (containerStatus(ctx, rec).running) continue
    if (!pruneMatches(f, rec.created, rec.labels)) continue
    await removeContainer(ctx, rec, false)
    result.containers.push(rec.id)
  }
  await releaseOrphanLeases(ctx)
  await releaseOrphanNames(ctx)
  // what CLIs killed while taking a lock or a name left (createExclusive's temporary files)
  await Promise.all([removeDeadTemps(ctx.store.locks), removeDeadTemps(ctx.store.names)])
  if (opts.volumes) {
    // docker 23+: anonymous volumes only (named ones: `volume prune -a`)
    const pruned = await pruneVolumes(ctx.store, (id) => containerExists(ctx, id), {sizeOf: diskUsage})
    result.volumes = pruned.removed
    result.blobBytes += pruned.bytes
  }
  for (const stale of await staleVolumeTemps(ctx.store)) await removeTree(stale)
  if (opts.all) {
    const used = await leasedImages(ctx.store)
    for (const img of await listImages(ctx.store)) {
      if (used.has(img.id)) continue
      if (f.size > 0 && !(await imagePruneMatches(ctx.store, f, img))) continue
      try {
        const r = await removeImage(ctx.store, img.ref)
        result.untagged.push(...r.untagged)
        result.deletedImages.push(...r.deleted)
      } catch {
        // taken into use or removed meanwhile: left alone
      }
    }
  }
  // what killed commands left: container directories without a record, stray names, temporaries
  await removeLeftovers(ctx)
  const gc = await garbageCollect(ctx.store)
  result.layers = gc.layersRemoved
  result.blobs = gc.blobsRemoved
  result.blobBytes += gc.blobBytes
  return result
}

export interface ResetResult {
  containers: string[]
  removed: string[]
}

/**
 * `system reset`: removes every container (running ones are killed) and the whole store: every
 * directory of the store layout and of the runtime directory. Only ctr-ts's own subdirectories
 * are removed, never the configured root itself (which may be a directory the user shares).
 */
export async function resetSystem(ctx: Context): Promise<ResetResult> {
  const containers: string[] = []
  for (const rec of await listContainers(ctx)) {
    try {
      await removeContainer(ctx, rec, true)
    } catch {
      // A container that will not die cleanly: kill its shim and remove its files below.
      const state = readState(ctx, rec.id)
      if (state.shimPid && isAlive(state.shimPid, state.shimStartTime)) {
        try {
          process.kill(state.shimPid, 'SIGKILL')
        } catch {
          // gone
        }
      }
    }
    containers.push(rec.id)
  }
  const {root, blobs, ...storeDirs} = ctx.store
  const {root: _runRoot, ...runDirs} = ctx.run
  // blobs is root/blobs/sha256: remove root/blobs
  const targets = [join(root, 'blobs'), ...Object.values(storeDirs), ...Object.values(runDirs)]
  void blobs
  await removeTree(...targets)
  return {containers, removed: targets}
}
