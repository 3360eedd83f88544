import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {isAlive} from '../runtime/process.js'
import {readLeases, releaseLease} from '../store/leases.js'
import {containerLeaseId, containerPaths, listContainers} from './record.js'

/**
 * Releases container leases whose container is gone (a create or rm killed between writing its
 * lease and its record, or the other way round): they only keep disk. A create in progress
 * writes its directory and its `creating` file (its pid) before it takes the lease, so a lease is
 * kept while its container has a record or a creator still alive. Returns the lease ids released.
 */
export async function releaseOrphanLeases(ctx: Context): Promise<string[]> {
  const live = new Set((await listContainers(ctx)).map((c) => containerLeaseId(c.id)))
  const released: string[] = []
  for (const lease of await readLeases(ctx.store)) {
    if (!lease.id.startsWith(containerLeaseId('')) || live.has(lease.id)) continue
    const paths = containerPaths(ctx, lease.id.slice(containerLeaseId('').length))
    if (creatorAlive(paths.dir)) continue
    try {
      readFileSync(paths.record)
      continue // written meanwhile
    } catch {
      // no record
    }
    await releaseLease(ctx.store, lease.id)
    released.push(lease.id)
  }
  return released
}

function creatorAlive(dir: string): boolean {
  try {
    const pid = Number(readFileSync(join(dir, 'creating'), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 && isAlive(pid, undefined)
  } catch {
    return false
  }
}
