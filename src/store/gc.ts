import {readdir, stat, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import type {StoreLayout} from '../paths.js'
import {removeTree} from '../userns/remove.js'
import {cleanStaleIngest, digestHex, listBlobs} from './blobs.js'
import {layersInUse, listImages} from './images.js'
import {MARKER_SUFFIX} from './layer-marker.js'
import {leasedDigests, withStoreLock} from './lock.js'

const STALE_TMP_MS = 60 * 60 * 1000

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/**
 * A temporary file or directory (`.tmp-PID-...`) left by a killed process: its owner is gone, or
 * it is older than an hour (pid reused, or a name without a pid from an older version).
 */
export async function isStaleTemp(path: string): Promise<boolean> {
  const m = /^\.tmp-(?:marker-)?(\d+)-/.exec(path.slice(path.lastIndexOf('/') + 1))
  if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) return true
  try {
    return Date.now() - (await stat(path)).mtimeMs > STALE_TMP_MS
  } catch {
    return false
  }
}

export interface GcResult {
  blobsRemoved: string[]
  layersRemoved: string[]
  /** Bytes of the removed blobs. */
  blobBytes: number
}

/**
 * Deletes blobs and unpacked layer directories that no image record references, no container
 * uses and no running pull has leased. Layer directories may hold files owned by sub-uids, so
 * they go through removeTree (rm inside the user namespace when needed).
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
        if (/^sha256:[a-f0-9]{64}$/.test(l.diffId)) keepLayers.add(digestHex(l.diffId))
      }
    }
    for (const hex of await layersInUse(store)) keepLayers.add(hex)
    for (const d of await leasedDigests(store)) {
      keepBlobs.add(d)
      if (/^sha256:[a-f0-9]{64}$/.test(d)) keepLayers.add(digestHex(d))
    }

    const blobsRemoved: string[] = []
    let blobBytes = 0
    for (const d of await listBlobs(store)) {
      if (keepBlobs.has(d)) continue
      const path = join(store.blobs, digestHex(d))
      try {
        blobBytes += (await stat(path)).size
        await unlink(path)
        blobsRemoved.push(d)
      } catch {
        // removed by someone else
      }
    }

    const layersRemoved: string[] = []
    let names: string[] = []
    try {
      names = await readdir(store.layers)
    } catch {
      // no layers yet
    }
    const doomed = names.filter((n) => /^[a-f0-9]{64}$/.test(n) && !keepLayers.has(n))
    // temporary unpack directories of killed pulls
    for (const n of names.filter((x) => x.startsWith('.tmp-'))) {
      if (await isStaleTemp(join(store.layers, n))) doomed.push(n)
    }
    if (doomed.length > 0) {
      await removeTree(...doomed.map((n) => join(store.layers, n)))
      layersRemoved.push(...doomed.filter((n) => !n.startsWith('.')).map((n) => `sha256:${n}`))
    }
    // completeness markers of removed layers (and of layers a killed process never renamed into place)
    const present = new Set(await readdir(store.layers).catch(() => [] as string[]))
    for (const n of names) {
      const hex = n.endsWith(MARKER_SUFFIX) ? n.slice(0, -MARKER_SUFFIX.length) : undefined
      if (hex && /^[a-f0-9]{64}$/.test(hex) && (!keepLayers.has(hex) || !present.has(hex))) await unlink(join(store.layers, n)).catch(() => {})
    }
    await cleanStaleIngest(store)
    return {blobsRemoved, layersRemoved, blobBytes}
  })
}
