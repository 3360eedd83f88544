import {existsSync} from 'node:fs'
import type {Context} from '../context.js'
import {readLeases, releaseLease} from '../store/leases.js'
import {containerLeaseId, containerPaths, listContainers} from './record.js'

/**
 * Releases container leases whose container is gone (a create or rm killed between writing its
 * record and its lease): they only keep disk. Leases younger than `minAgeMs` are left alone, as a
 * create in progress takes its lease before it writes its record. Returns the lease ids released.
 */
export async function releaseOrphanLeases(ctx: Context, minAgeMs = 10 * 60 * 1000): Promise<string[]> {
  const live = new Set((await listContainers(ctx)).map((c) => containerLeaseId(c.id)))
  const released: string[] = []
  const now = Date.now()
  for (const lease of await readLeases(ctx.store)) {
    if (!lease.id.startsWith(containerLeaseId('')) || live.has(lease.id)) continue
    const created = Date.parse(lease.created)
    if (Number.isFinite(created) && now - created < minAgeMs) continue
    if (existsSync(containerPaths(ctx, lease.id.slice(containerLeaseId('').length)).record)) continue
    await releaseLease(ctx.store, lease.id)
    released.push(lease.id)
  }
  return released
}
