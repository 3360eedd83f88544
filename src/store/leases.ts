import {randomBytes} from 'node:crypto'
import {readdir, readFile, rename, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {UsageError} from '../errors.js'
import {isDigest} from '../oci/digest.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {isAlive, withStoreLock} from './lock.js'

/**
 * Leases (containerd's shape): what protects content and unpacked layers from garbage collection
 * besides the image records. `leases/<id>.json` names blob digests (`content`), layer diff ids
 * (`layers`) and, for a user of an image, the image id it holds.
 *
 * - A container leases its image's layers when it is created (`container-<id>`) and releases
 *   them when it is removed: `rmi` refuses an image a lease holds, `gc` keeps its layers even
 *   after `rmi -f`.
 * - A pull holds a lease bound to its process (`createProcessLease`): dropped by the collector
 *   as soon as that process is gone.
 *
 * Leases are written (temp file + rename) and removed while holding the store's `gc` lock, which
 * the collector holds while it reads them: gc never sees half a lease, nor misses one being added.
 */
export interface LeaseRecord {
  id: string
  /** Set for leases bound to a process: void once it is gone. */
  pid?: number
  created: string
  /** The image id (config digest) this lease's holder uses. */
  image?: string
  /** Who holds it, for messages (a container's name). */
  holder?: string
  /** Blob digests. */
  content: string[]
  /** Unpacked layer diff ids. */
  layers: string[]
}

export interface LeaseResources {
  image?: string
  holder?: string
  content?: string[]
  layers?: string[]
}

const LEASE_ID = /^[a-z0-9][a-z0-9._-]{0,127}$/
const SUFFIX = '.json'

function leasePath(store: StoreLayout, id: string): string {
  if (!LEASE_ID.test(id)) throw new UsageError(`invalid lease id ${JSON.stringify(id.slice(0, 140))}`)
  return join(store.leases, `${id}${SUFFIX}`)
}

function checkDigests(list: readonly string[] | undefined, what: string): string[] {
  for (const d of list ?? []) if (!isDigest(d)) throw new UsageError(`lease: malformed ${what} ${JSON.stringify(String(d).slice(0, 100))}`)
  return [...new Set(list ?? [])]
}

/** Temp files of lease writes: `.<pid>.<random>.tmp` (removed by readLeases once their writer is gone). */
function tempName(): string {
  return `.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
}

async function writeLeaseFile(store: StoreLayout, lease: LeaseRecord): Promise<void> {
  ensureDir(store.leases)
  const tmp = join(store.leases, tempName())
  try {
    await writeFile(tmp, JSON.stringify(lease, null, 2) + '\n', {mode: 0o600, flush: true})
    await rename(tmp, leasePath(store, lease.id))
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
}

/**
 * The file whose removal releases the lease `id`, for a process that cannot call releaseLease
 * (the shim's `--rm` exit command). Removing it without the gc lock is safe: gc may only keep
 * what it holds a moment longer.
 */
export function leaseFile(store: StoreLayout, id: string): string {
  return leasePath(store, id)
}

/**
 * Creates (or replaces) the persistent lease `id` on `resources`. The image id, content and
 * layers must be sha256 digests.
 */
export async function acquireLease(store: StoreLayout, id: string, resources: LeaseResources): Promise<LeaseRecord> {
  leasePath(store, id)
  if (resources.image !== undefined && !isDigest(resources.image)) throw new UsageError(`lease: malformed image id ${JSON.stringify(resources.image)}`)
  const lease: LeaseRecord = {
    id,
    created: new Date().toISOString(),
    ...(resources.image ? {image: resources.image} : {}),
    ...(resources.holder ? {holder: resources.holder} : {}),
    content: checkDigests(resources.content, 'content digest'),
    layers: checkDigests(resources.layers, 'layer diff id'),
  }
  await withStoreLock(store, 'gc', () => writeLeaseFile(store, lease))
  return lease
}

/** Removes the lease `id` (nothing when there is none). What it held becomes collectable. */
export async function releaseLease(store: StoreLayout, id: string): Promise<void> {
  const path = leasePath(store, id)
  await withStoreLock(store, 'gc', () => unlink(path).catch(() => {}))
}

function parseLease(text: string, id: string): LeaseRecord | undefined {
  const v = JSON.parse(text) as Partial<LeaseRecord> | null
  if (!v || v.id !== id || !Array.isArray(v.content) || !Array.isArray(v.layers)) return undefined
  return {
    id,
    ...(typeof v.pid === 'number' ? {pid: v.pid} : {}),
    created: typeof v.created === 'string' ? v.created : '',
    ...(isDigest(v.image) ? {image: v.image} : {}),
    ...(typeof v.holder === 'string' ? {holder: v.holder} : {}),
    content: v.content.filter(isDigest),
    layers: v.layers.filter(isDigest),
  }
}

/**
 * Every valid lease. Leases of processes that are gone, and temp files of writers that are gone,
 * are deleted on the way. The collector calls this holding the `gc` lock.
 */
export async function readLeases(store: StoreLayout): Promise<LeaseRecord[]> {
  let names: string[]
  try {
    names = await readdir(store.leases)
  } catch {
    return []
  }
  const out: LeaseRecord[] = []
  for (const name of names) {
    const path = join(store.leases, name)
    const temp = /^\.(\d+)\.[a-f0-9]+\.tmp$/.exec(name)
    if (temp) {
      if (!isAlive(Number(temp[1]))) await unlink(path).catch(() => {})
      continue
    }
    if (!name.endsWith(SUFFIX)) continue
    const id = name.slice(0, -SUFFIX.length)
    if (!LEASE_ID.test(id)) continue
    let lease: LeaseRecord | undefined
    try {
      lease = parseLease(await readFile(path, 'utf8'), id)
    } catch {
      continue // released meanwhile
    }
    if (!lease) continue
    if (lease.pid !== undefined && !isAlive(lease.pid)) {
      await unlink(path).catch(() => {})
      continue
    }
    out.push(lease)
  }
  return out
}

/** Image ids held by leases, with their holders' names: what `rmi` refuses without force. */
export async function leasedImages(store: StoreLayout): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>()
  for (const l of await readLeases(store)) {
    if (l.image) out.set(l.image, [...(out.get(l.image) ?? []), l.holder ?? l.id])
  }
  return out
}

/** A lease bound to this process (a pull): grows as the process learns what it uses. */
export interface ProcessLease {
  readonly id: string
  /** Adds blob digests and layer diff ids. Call before relying on their presence. */
  add(resources: {content?: string[]; layers?: string[]}): Promise<void>
  release(): Promise<void>
}

/** A lease that protects what it names from garbage collection while this process lives. */
export async function createProcessLease(store: StoreLayout, kind = 'pull'): Promise<ProcessLease> {
  const id = `${kind}-${process.pid}-${randomBytes(6).toString('hex')}`
  const content = new Set<string>()
  const layers = new Set<string>()
  const created = new Date().toISOString()
  leasePath(store, id)
  return {
    id,
    async add(more) {
      const c = checkDigests(more.content, 'content digest').filter((d) => !content.has(d))
      const l = checkDigests(more.layers, 'layer diff id').filter((d) => !layers.has(d))
      if (c.length === 0 && l.length === 0) return
      for (const d of c) content.add(d)
      for (const d of l) layers.add(d)
      await withStoreLock(store, 'gc', () => writeLeaseFile(store, {id, pid: process.pid, created, content: [...content], layers: [...layers]}))
    },
    async release() {
      await unlink(leasePath(store, id)).catch(() => {})
    },
  }
}

