/**
 * The listing part of the image facade (docker images): what `ctr-ts images` needs, apart from
 * the rest of engine/images.ts (pull, remove, prune, inspect), whose modules `images` would
 * otherwise load at every start. engine/images.ts re-exports it.
 */
import type {Context} from '../context.js'
import {imageMatches, parseImageFilters} from '../image/filter.js'
import {imageRows, type ImageRow} from '../image/list.js'
import {readImageConfig, resolveImage} from '../store/images.js'

export type {ImageRow}

/** `images`: one row per image reference, newest pull first; `filters` as docker's --filter. */
export async function listImages(ctx: Context, opts: {filters?: readonly string[]} = {}): Promise<ImageRow[]> {
  const f = parseImageFilters(opts.filters)
  const rows = await imageRows(ctx.store)
  if (f.size === 0) return rows
  const createdOf = async (key: string): Promise<string | undefined> => {
    const v = f.get(key)?.at(-1)
    if (v === undefined) return undefined
    const rec = await resolveImage(ctx.store, v)
    return rec.created ?? ''
  }
  const resolved = {before: await createdOf('before'), since: await createdOf('since')}
  const out: ImageRow[] = []
  for (const row of rows) {
    let labels: Record<string, string> | undefined
    if (f.has('label')) {
      const rec = await resolveImage(ctx.store, row.Id).catch(() => undefined)
      labels = rec ? (await readImageConfig(ctx.store, rec).catch(() => undefined))?.config?.Labels : undefined
    }
    if (imageMatches(f, row, labels, resolved)) out.push(row)
  }
  return out
}
