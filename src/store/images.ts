import {createHash, randomBytes} from 'node:crypto'
import {readdir, readFile, rename, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {ConflictError, IntegrityError, NotFoundError, UsageError} from '../errors.js'
import type {ImageConfig, ImageRecord} from '../oci/types.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {isReference, parseReference} from '../reference/parse.js'
import {isDigest, isDigestHex} from '../oci/digest.js'
import {readBlob} from './content.js'
import {leasedImages} from './leases.js'

/** images/<sha256 hex of the normalized reference>.json */
export function imageRecordPath(store: StoreLayout, ref: string): string {
  return join(store.images, `${createHash('sha256').update(ref).digest('hex')}.json`)
}

/** Writes a record atomically (unique temp file, fsync-free rename: the blobs it names are already durable). */
export async function writeImageRecord(store: StoreLayout, record: ImageRecord): Promise<void> {
  ensureDir(store.images)
  const path = imageRecordPath(store, record.ref)
  const tmp = join(store.images, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`)
  try {
    await writeFile(tmp, JSON.stringify(record, null, 2) + '\n', {mode: 0o600, flush: true})
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
}

/** A record's digests are checked once here, when it is read: the rest of ctr-ts may build paths from them. */
function isRecord(x: unknown): x is ImageRecord {
  if (typeof x !== 'object' || x === null) return false
  const r = x as Partial<ImageRecord>
  return (
    typeof r.ref === 'string' &&
    isDigest(r.id) &&
    isDigest(r.manifestDigest) &&
    (r.indexDigest === undefined || isDigest(r.indexDigest)) &&
    Array.isArray(r.layers) &&
    r.layers.every((l: Partial<ImageRecord['layers'][number]> | null) => l !== null && typeof l === 'object' && isDigest(l.digest) && isDigest(l.diffId))
  )
}

const byCodeUnit = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0)

/** Every image record, sorted by pull time (newest first). */
export async function listImages(store: StoreLayout): Promise<ImageRecord[]> {
  let names: string[]
  try {
    names = await readdir(store.images)
  } catch {
    return []
  }
  const out: ImageRecord[] = []
  for (const name of names) {
    if (!name.endsWith('.json') || !isDigestHex(name.slice(0, -5))) continue
    try {
      const parsed: unknown = JSON.parse(await readFile(join(store.images, name), 'utf8'))
      if (isRecord(parsed)) out.push(parsed)
    } catch {
      // removed meanwhile
    }
  }
  // code-unit order, not localeCompare: its first call starts ICU's collator (10-40 ms)
  return out.sort((a, b) => byCodeUnit(b.pulledAt ?? '', a.pulledAt ?? '') || byCodeUnit(a.ref, b.ref))
}

const HEX_PREFIX = /^(?:sha256:)?([a-f0-9]{4,64})$/

/** Records that `nameOrId` designates (several when it is an id shared by several references). */
export async function findImages(store: StoreLayout, nameOrId: string): Promise<{records: ImageRecord[]; byId: boolean}> {
  const all = await listImages(store)
  const full = isDigest(nameOrId) ? nameOrId : isDigestHex(nameOrId) ? `sha256:${nameOrId}` : undefined
  if (full) {
    const byId = all.filter((r) => r.id === full)
    if (byId.length > 0) return {records: byId, byId: true}
    const byDigest = all.filter((r) => r.manifestDigest === full || r.indexDigest === full)
    if (byDigest.length > 0) return {records: byDigest, byId: true}
  }
  if (!nameOrId.startsWith('sha256:') && isReference(nameOrId)) {
    const ref = parseReference(nameOrId)
    const normalized = ref.toString()
    const exact = all.filter((r) => r.ref === normalized)
    if (exact.length > 0) return {records: exact, byId: false}
    if (ref.digest) {
      // name@digest matches a record of the same repository pulled by tag with that digest
      const same = all.filter((r) => {
        try {
          return parseReference(r.ref).name === ref.name && (r.manifestDigest === ref.digest || r.indexDigest === ref.digest)
        } catch {
          return false
        }
      })
      if (same.length > 0) return {records: same.slice(0, 1), byId: false}
    }
  }
  const m = HEX_PREFIX.exec(nameOrId)
  if (m) {
    const prefix = `sha256:${m[1]}`
    const ids = [...new Set(all.filter((r) => r.id.startsWith(prefix)).map((r) => r.id))]
    if (ids.length > 1) throw new UsageError(`image id prefix ${JSON.stringify(nameOrId)} is ambiguous (${ids.length} images match)`)
    if (ids.length === 1) return {records: all.filter((r) => r.id === ids[0]), byId: true}
  }
  return {records: [], byId: false}
}

/**
 * The image `nameOrId` designates: a reference (busybox → docker.io/library/busybox:latest,
 * name:tag, name@digest), an image id, a unique id prefix of at least 4 hex characters (with or
 * without sha256:), or a manifest digest. Throws NotFoundError.
 */
export async function resolveImage(store: StoreLayout, nameOrId: string): Promise<ImageRecord> {
  const {records} = await findImages(store, nameOrId)
  const first = records[0]
  if (!first) throw new NotFoundError(`no such image: ${nameOrId}`)
  return first
}

/** The parsed image configuration of a record (the config blob). */
export async function readImageConfig(store: StoreLayout, record: ImageRecord): Promise<ImageConfig> {
  const bytes = await readBlob(store, record.id)
  try {
    return JSON.parse(bytes.toString('utf8')) as ImageConfig
  } catch {
    throw new IntegrityError(`image config ${record.id} is not valid JSON`)
  }
}

export interface RemoveResult {
  untagged: string[]
  /** Image ids with no reference left. */
  deleted: string[]
}

/**
 * Removes the record(s) `nameOrId` designates: a reference removes that reference only; an id
 * removes every reference to it (only with `force` when there are several). An image a lease holds (a
 * container uses it) is refused unless `force`. Blobs and layers are reclaimed by `garbageCollect`.
 */
export async function removeImage(store: StoreLayout, nameOrId: string, opts: {force?: boolean} = {}): Promise<RemoveResult> {
  const {records, byId} = await findImages(store, nameOrId)
  if (records.length === 0) throw new NotFoundError(`no such image: ${nameOrId}`)
  if (byId && records.length > 1 && !opts.force) {
    throw new ConflictError(
      `unable to delete ${records[0]!.id.slice(7, 19)} (must be forced): image is referenced by ${records.length} references (${records.map((r) => r.ref).join(', ')})`,
    )
  }
  const remaining = await listImages(store)
  const removing = new Set(records.map((r) => r.ref))
  const id = records[0]!.id
  const lastReference = !remaining.some((r) => r.id === id && !removing.has(r.ref))
  if (lastReference && !opts.force) {
    const users = (await leasedImages(store)).get(id)
    if (users && users.length > 0) {
      throw new ConflictError(`unable to remove image ${nameOrId} (must be forced): image is being used by container ${users.join(', ')}`)
    }
  }
  for (const r of records) await unlink(imageRecordPath(store, r.ref)).catch(() => {})
  return {untagged: records.map((r) => r.ref), deleted: lastReference ? [id] : []}
}
