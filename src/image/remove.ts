import type {StoreLayout} from '../paths.js'
import {garbageCollect, type GcResult} from '../store/gc.js'
import {findImages, listImages, removeImage, type RemoveResult} from '../store/images.js'
import {leasedImages} from '../store/leases.js'
import {parseReference} from '../reference/parse.js'
import {type Filters, parsePruneFilters, pruneMatches} from '../format/filters.js'
import type {ImageRecord} from '../oci/types.js'
import {readImageConfig} from '../store/images.js'

/** docker's prune filters (until, label, label!) on an image: its creation time and its config's labels. */
export async function imagePruneMatches(store: StoreLayout, f: Filters, r: ImageRecord): Promise<boolean> {
  const config = await readImageConfig(store, r).catch(() => undefined)
  return pruneMatches(f, config?.created ?? r.created, config?.config?.Labels)
}

export interface RemoveImagesResult {
  /** Lines like docker's: "Untagged: alpine:latest", "Deleted: sha256:…". */
  lines: string[]
  /** Per-argument failures (the others are still removed). */
  errors: unknown[]
  gc: GcResult
}

function familiar(ref: string): string {
  try {
    return parseReference(ref).familiar()
  } catch {
    return ref
  }
}

/** `rmi`: removes each image (by name or id), then reclaims blobs and layers nothing references. */
export async function removeImages(
  store: StoreLayout,
  names: string[],
  opts: {force?: boolean; onRemoved?: (res: RemoveResult & {id: string}) => void} = {},
): Promise<RemoveImagesResult> {
  const lines: string[] = []
  const errors: unknown[] = []
  for (const name of names) {
    try {
      const id = (await findImages(store, name)).records[0]?.id ?? ''
      const res = await removeImage(store, name, opts)
      for (const ref of res.untagged) lines.push(`Untagged: ${familiar(ref)}`)
      for (const id of res.deleted) lines.push(`Deleted: ${id}`)
      opts.onRemoved?.({...res, id})
    } catch (err) {
      errors.push(err)
    }
  }
  const gc = await garbageCollect(store)
  return {lines, errors, gc}
}

/**
 * `image prune`: without `all`, only content no image references (blobs and layers left by
 * re-tagged or interrupted pulls: ctr-ts's dangling images); with `all`, also every image no
 * container uses.
 */
export async function pruneImages(store: StoreLayout, opts: {all?: boolean; filters?: readonly string[]} = {}): Promise<{lines: string[]; gc: GcResult}> {
  const f = parsePruneFilters(opts.filters)
  const lines: string[] = []
  if (opts.all) {
    const used = await leasedImages(store)
    for (const r of await listImages(store)) {
      if (used.has(r.id)) continue
      if (f.size > 0 && !(await imagePruneMatches(store, f, r))) continue
      try {
        const res = await removeImage(store, r.ref, {force: false})
        for (const ref of res.untagged) lines.push(`Untagged: ${familiar(ref)}`)
        for (const id of res.deleted) lines.push(`Deleted: ${id}`)
      } catch {
        // raced with a container create or another prune
      }
    }
  }
  const gc = await garbageCollect(store)
  for (const d of gc.blobsRemoved) if (!lines.includes(`Deleted: ${d}`)) lines.push(`Deleted: ${d}`)
  return {lines, gc}
}
