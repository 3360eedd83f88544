import {readdir, readFile} from 'node:fs/promises'
import type {Context} from '../context.js'
import {acquireLease} from '../store/leases.js'
import {writeJsonAtomic} from '../runtime/json-file.js'
import {containerLeaseId, containerPaths, parseRecord} from './record.js'

/**
 * Upgrades the container records of a store written by ctr-ts 0.x (store format 1), once: each
 * record naming its lower directories by path gets a lease on its layers, then is rewritten with
 * diff ids (atomically). The lease comes first: killed in between, the record is still read in
 * its old form (parseRecord) and the next run leases it again (acquireLease replaces); the
 * caller marks the store upgraded only after every record is done. Returns the ids upgraded.
 */
export async function migrateContainerRecords(ctx: Context): Promise<string[]> {
  let ids: string[]
  try {
    ids = await readdir(ctx.store.containers)
  } catch {
    return []
  }
  const upgraded: string[] = []
  for (const id of ids) {
    const path = containerPaths(ctx, id).record
    let raw: unknown
    try {
      raw = JSON.parse(await readFile(path, 'utf8'))
    } catch {
      continue // not a container (being created or removed)
    }
    const rec = parseRecord(raw)
    if (!rec || rec.id !== id) continue
    await acquireLease(ctx.store, containerLeaseId(id), {image: rec.image, holder: rec.name, layers: rec.diffIds})
    if ('lowerDirs' in (raw as object)) {
      await writeJsonAtomic(path, rec)
      upgraded.push(id)
    }
  }
  return upgraded
}

