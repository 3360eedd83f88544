import type {StoreLayout} from '../paths.js'
import {removeTree} from '../userns/remove.js'
import {cleanStaleIngest, listBlobs, removeBlob} from './content.js'
import {listImages} from './images.js'
import {kernelFormDir, layerDir, listLayers, orphanKernelForms, staleLayerTemps} from './layers.js'
import {layerMarkerPath} from './layer-marker.js'
import {readLeases} from './leases.js'
import {withStoreLock} from './lock.js'

export interface GcResult {
  blobsRemoved: string[]
  layersRemoved: string[]
  /** Bytes of the removed blobs. */
  blobBytes: number
}

/**
 * Deletes blobs and unpacked layers that no image record references and no lease holds
 * (containers lease their layers, running pulls what they fetch). Layer directories may hold
 * files owned by sub-uids, so they go through removeTree (rm inside the user namespace when
 * needed). Temporary files of killed pulls go too.
 */
export async function garbageCollect(store: StoreLayout): Promise<GcResult> {
  return withStoreLock(store, 'gc', async () => {
    const keepBlobs = new Set<string>()
    const keepLayers = new Set<string>()
    for (const r of await listImages(store)) {
      keepBlobs.add(r.id)
      keepBlobs.add(r.manifestDigest)
      if (r.indexDigest) keepBlobs.add(r.indexDigest)
      for (const l of r.layers) {
        keepBlobs.add(l.digest)
        keepLayers.add(l.diffId)
      }
    }
    for (const lease of await readLeases(store)) {
      for (const d of lease.content) keepBlobs.add(d)
      for (const d of lease.layers) keepLayers.add(d)
    }

    const blobsRemoved: string[] = []
    let blobBytes = 0
    for (const d of await listBlobs(store)) {
      if (keepBlobs.has(d)) continue
      const size = await removeBlob(store, d)
      if (size === undefined) continue // removed by someone else
      blobBytes += size
      blobsRemoved.push(d)
    }

    const layersRemoved = (await listLayers(store)).filter((d) => !keepLayers.has(d))
    const doomed = [
      ...layersRemoved.flatMap((d) => [layerMarkerPath(store, d), kernelFormDir(store, d), layerDir(store, d)]),
      ...(await staleLayerTemps(store)),
      ...(await orphanKernelForms(store)),
    ]
    if (doomed.length > 0) await removeTree(...doomed)
    await cleanStaleIngest(store)
    return {blobsRemoved, layersRemoved, blobBytes}
  })
}
