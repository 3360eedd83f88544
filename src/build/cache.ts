import {createHash, randomBytes} from 'node:crypto'
import {mkdir, readFile, rename, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {LayerRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {hasBlob} from '../store/content.js'
import {hasLayer} from '../store/layers.js'

/**
 * The build cache: one small file per step, named by a key chained from the base image's id
 * through every instruction (after substitution) and what it depends on (build args in scope,
 * the content hash of copied files, the state of a --from stage). It keeps the step's history
 * time and, for a step that made one, its layer: a rebuild without changes makes the same image.
 */
export interface CacheEntry {
  created: string
  layer?: LayerRecord
}

export function chainKey(parent: string, parts: string[]): string {
  const h = createHash('sha256').update(parent)
  for (const p of parts) h.update('\0').update(p)
  return h.digest('hex')
}

/** What a step made earlier, when its layer is still in the store. */
export async function cacheGet(store: StoreLayout, key: string): Promise<CacheEntry | undefined> {
  let entry: CacheEntry
  try {
    entry = JSON.parse(await readFile(join(store.buildCache, `${key}.json`), 'utf8')) as CacheEntry
  } catch {
    return undefined
  }
  if (typeof entry.created !== 'string') return undefined
  if (entry.layer && (!hasLayer(store, entry.layer.diffId) || !(await hasBlob(store, entry.layer.digest)))) return undefined
  return entry
}

export async function cachePut(store: StoreLayout, key: string, entry: CacheEntry): Promise<void> {
  await mkdir(store.buildCache, {recursive: true, mode: 0o700})
  const tmp = join(store.buildCache, `.${key}.${randomBytes(4).toString('hex')}`)
  await writeFile(tmp, JSON.stringify(entry), {mode: 0o600})
  await rename(tmp, join(store.buildCache, `${key}.json`))
}
