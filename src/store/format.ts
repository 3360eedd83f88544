import {readFileSync} from 'node:fs'
import {rename, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {StoreLayout} from '../paths.js'

/**
 * The store's format version, in `<root>/store-format`. No file: a store written by ctr-ts 0.x
 * (format 1: container records name their lower directories by path and hold no lease), or a
 * new empty store. Format 2: containers keep diff ids and lease their layers.
 */
export const STORE_FORMAT = 2

function formatPath(store: StoreLayout): string {
  return join(store.root, 'store-format')
}

/** The format the store is in (1 when unmarked). */
export function storeFormat(store: StoreLayout): number {
  try {
    const n = Number(readFileSync(formatPath(store), 'utf8').trim())
    return Number.isInteger(n) && n > 0 ? n : 1
  } catch {
    return 1
  }
}

/** Marks the store as being in the current format (atomically: after the upgrade steps are done). */
export async function markStoreFormat(store: StoreLayout): Promise<void> {
  const tmp = `${formatPath(store)}.${process.pid}.tmp`
  try {
    await writeFile(tmp, `${STORE_FORMAT}\n`, {mode: 0o600, flush: true})
    await rename(tmp, formatPath(store))
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
}
