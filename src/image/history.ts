import {lstat, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import type {ImageRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {layerDir} from '../store/layers.js'
import {readImageConfig} from '../store/images.js'

/** One row of `history`, newest first (docker's image.HistoryResponseItem). */
export interface HistoryItem {
  /** The image id on the newest row, `<missing>` on the others (their intermediate images are not local). */
  Id: string
  Created?: string
  CreatedBy: string
  /** Bytes of the layer the step made (its unpacked files), 0 for steps without a layer. */
  Size: number
  Comment: string
  EmptyLayer: boolean
}

/** Bytes of the regular files and symlinks under `dir` (what docker counts as a layer's size). */
async function treeSize(dir: string): Promise<number> {
  let total = 0
  let entries: string[]
  try {
    entries = await readdir(dir)
  } catch {
    return 0
  }
  for (const name of entries) {
    const p = join(dir, name)
    const st = await lstat(p).catch(() => undefined)
    if (!st) continue
    if (st.isDirectory()) total += await treeSize(p)
    else total += st.size
  }
  return total
}

export async function imageHistory(store: StoreLayout, image: ImageRecord): Promise<HistoryItem[]> {
  const config = await readImageConfig(store, image)
  const diffIds = config.rootfs?.diff_ids ?? image.layers.map((l) => l.diffId)
  const history = config.history && config.history.length > 0 ? config.history : diffIds.map(() => ({created: config.created, created_by: '', comment: '', empty_layer: false}))
  const items: HistoryItem[] = []
  let layer = 0
  for (const h of history) {
    const empty = h.empty_layer === true
    const diffId = empty ? undefined : diffIds[layer++]
    items.push({
      Id: '<missing>',
      Created: h.created,
      CreatedBy: h.created_by ?? '',
      Size: diffId ? await treeSize(layerDir(store, diffId)) : 0,
      Comment: h.comment ?? '',
      EmptyLayer: empty,
    })
  }
  items.reverse()
  if (items[0]) items[0].Id = image.id
  return items
}
