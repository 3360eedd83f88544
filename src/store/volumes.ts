import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {ConflictError, NotFoundError, UsageError} from '../errors.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {removeTree} from '../userns/remove.js'
import {withStoreLock} from './lock.js'
import {isStaleTemp} from './temps.js'

/**
 * Volumes, and the only module that knows their layout:
 *
 *     volumes/<name>/volume.json   the volume's record (driver, labels, options, creation time)
 *     volumes/<name>/_data/        its content (docker's Mountpoint); files keep the mapped ids of
 *                                  the container user namespace, like unpacked layers
 *     volumes/<name>/refs/<id>     one empty file per container that mounts it
 *     volumes/<name>/populated     present once the volume had content when a container started
 *                                  (it is then never seeded from an image again)
 *     volumes/.tmp-PID-XXXXXX/     a volume being created (renamed to its name once complete)
 *     volumes/.rm-XXXXXXXX/        a volume being removed (renamed away first: gone at once)
 *
 * A volume is in use while a ref names a container that still exists (the caller says which do:
 * the store does not know containers). Refs are written and checked under the volume's store lock
 * (`volume-<name>`), so a removal never races a container that starts using the volume.
 */

export const VOLUME_DRIVER = 'local'
/** docker's label on anonymous volumes (moby 23+). */
export const ANONYMOUS_LABEL = 'com.docker.volume.anonymous'

export interface VolumeRecord {
  name: string
  driver: string
  /** RFC 3339, seconds. */
  createdAt: string
  labels: Record<string, string>
  /** The local driver's options: type, device, o (docker's `-o`). */
  options: Record<string, string>
}

const NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/
const TEMP_PREFIX = '.tmp-'
const TRASH_PREFIX = '.rm-'

/** docker's rule for local volume names. */
export function checkVolumeName(name: string): string {
  if (!NAME.test(name)) {
    throw new UsageError(`"${name}" includes invalid characters for a local volume name, only "[a-zA-Z0-9][a-zA-Z0-9_.-]" are allowed`)
  }
  return name
}

/** A new anonymous volume's name: 64 hex digits, like docker's. */
export function anonymousVolumeName(): string {
  return randomBytes(32).toString('hex')
}

function dirOf(store: StoreLayout, name: string): string {
  return join(store.volumes, checkVolumeName(name))
}

/** The directory that holds the volume (record, data, refs): what `rm -rf` removes. */
export function volumeDir(store: StoreLayout, name: string): string {
  return dirOf(store, name)
}

/** The volume's content: what containers mount (docker's Mountpoint). */
export function volumeDataDir(store: StoreLayout, name: string): string {
  return join(dirOf(store, name), '_data')
}

/** The file by which container `id` marks its use of the volume. */
export function volumeRefFile(store: StoreLayout, name: string, id: string): string {
  return join(dirOf(store, name), 'refs', id)
}

function parseRecord(raw: unknown): VolumeRecord | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Partial<VolumeRecord>
  if (typeof r.name !== 'string' || typeof r.createdAt !== 'string') return undefined
  return {
    name: r.name,
    driver: typeof r.driver === 'string' ? r.driver : VOLUME_DRIVER,
    createdAt: r.createdAt,
    labels: typeof r.labels === 'object' && r.labels !== null ? r.labels : {},
    options: typeof r.options === 'object' && r.options !== null ? r.options : {},
  }
}

/** The volume's record, or undefined when there is no such volume. */
export async function readVolume(store: StoreLayout, name: string): Promise<VolumeRecord | undefined> {
  if (!NAME.test(name)) return undefined
  try {
    return parseRecord(JSON.parse(await readFile(join(dirOf(store, name), 'volume.json'), 'utf8')))
  } catch {
    return undefined
  }
}

/** The volume's record; NotFoundError when there is none. */
export async function getVolume(store: StoreLayout, name: string): Promise<VolumeRecord> {
  const v = await readVolume(store, name)
  if (!v) throw new NotFoundError(`no such volume: ${name}`)
  return v
}

/** Every volume, by name. */
export async function listVolumes(store: StoreLayout): Promise<VolumeRecord[]> {
  let names: string[]
  try {
    names = await readdir(store.volumes)
  } catch {
    return []
  }
  const out: VolumeRecord[] = []
  for (const n of names.filter((x) => NAME.test(x)).sort()) {
    const v = await readVolume(store, n)
    if (v) out.push(v)
  }
  return out
}

const sameMap = (a: Record<string, string>, b: Record<string, string>) =>
  Object.keys(a).length === Object.keys(b).length && Object.entries(a).every(([k, v]) => b[k] === v)

async function createUnlocked(store: StoreLayout, v: VolumeRecord): Promise<{volume: VolumeRecord; created: boolean}> {
  const existing = await readVolume(store, v.name)
  if (existing) return {volume: existing, created: false}
  ensureDir(store.volumes)
  const temp = await mkdtemp(join(store.volumes, `${TEMP_PREFIX}${process.pid}-`))
  try {
    // 0755: container processes of any uid reach the data (the store root above stays private).
    await mkdir(join(temp, '_data'), {mode: 0o755})
    await mkdir(join(temp, 'refs'), {mode: 0o700})
    await writeFile(join(temp, 'volume.json'), JSON.stringify(v, null, 2) + '\n', {mode: 0o600})
    await rename(temp, dirOf(store, v.name))
  } catch (err) {
    await rm(temp, {recursive: true, force: true})
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return {volume: await getVolume(store, v.name), created: false}
    throw err
  }
  return {volume: v, created: true}
}

export interface NewVolume {
  /** Absent: an anonymous volume (a random name, docker's anonymous label). */
  name?: string
  labels?: Record<string, string>
  options?: Record<string, string>
}

function newRecord(spec: NewVolume): VolumeRecord {
  const anonymous = spec.name === undefined
  return {
    name: anonymous ? anonymousVolumeName() : checkVolumeName(spec.name!),
    driver: VOLUME_DRIVER,
    createdAt: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    labels: {...(spec.labels ?? {}), ...(anonymous ? {[ANONYMOUS_LABEL]: ''} : {})},
    options: spec.options ?? {},
  }
}

/**
 * `volume create`: creates the volume, or returns the existing one of that name (docker's rule);
 * an existing volume with other driver options is a conflict.
 */
export async function createVolume(store: StoreLayout, spec: NewVolume): Promise<{volume: VolumeRecord; created: boolean}> {
  const v = newRecord(spec)
  return withStoreLock(store, `volume-${v.name}`, async () => {
    const r = await createUnlocked(store, v)
    if (!r.created && spec.options && Object.keys(spec.options).length > 0 && !sameMap(spec.options, r.volume.options)) {
      throw new ConflictError(`volume ${v.name} already exists with different options`)
    }
    return r
  })
}

/**
 * A container starts using a volume: created first when missing (`-v NAME:/path` does that), or
 * NotFoundError with `mustExist`; then the container's ref is written, under the volume's lock.
 */
export async function useVolume(store: StoreLayout, spec: NewVolume, containerId: string, opts: {mustExist?: boolean} = {}): Promise<{volume: VolumeRecord; created: boolean}> {
  const v = newRecord(spec)
  return withStoreLock(store, `volume-${v.name}`, async () => {
    const r = opts.mustExist ? {volume: await getVolume(store, v.name), created: false} : await createUnlocked(store, v)
    const refs = join(dirOf(store, v.name), 'refs')
    await mkdir(refs, {recursive: true, mode: 0o700})
    await writeFile(join(refs, containerId), '', {mode: 0o600})
    return r
  })
}

/** The containers whose refs name the volume (whether or not they still exist). */
export async function volumeRefs(store: StoreLayout, name: string): Promise<string[]> {
  try {
    return (await readdir(join(dirOf(store, name), 'refs'))).filter((n) => /^[a-f0-9]{64}$/.test(n)).sort()
  } catch {
    return []
  }
}

/** Container `containerId` no longer uses these volumes. */
export async function releaseVolumes(store: StoreLayout, names: readonly string[], containerId: string): Promise<void> {
  for (const name of names) await rm(volumeRefFile(store, name, containerId), {force: true})
}

/**
 * Removes a volume unless a container that still exists uses it (`exists` says which do): then
 * ConflictError with docker's message, `-f` or not (docker refuses too). NotFoundError when missing.
 */
export async function removeVolume(store: StoreLayout, name: string, exists: (containerId: string) => boolean): Promise<void> {
  await withStoreLock(store, `volume-${checkVolumeName(name)}`, async () => {
    await getVolume(store, name)
    const users = (await volumeRefs(store, name)).filter(exists)
    if (users.length > 0) throw new ConflictError(`remove ${name}: volume is in use - [${users.join(', ')}]`)
    const trash = join(store.volumes, `${TRASH_PREFIX}${randomBytes(4).toString('hex')}`)
    await rename(dirOf(store, name), trash)
    await removeTree(trash)
  })
}

/** Volumes being created or removed by processes that are gone (for `system prune`). */
export async function staleVolumeTemps(store: StoreLayout): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(store.volumes)
  } catch {
    return []
  }
  const out: string[] = []
  for (const n of names) {
    const path = join(store.volumes, n)
    if (n.startsWith(TRASH_PREFIX) || (n.startsWith(TEMP_PREFIX) && (await isStaleTemp(path)))) out.push(path)
  }
  return out
}

/** Whether the volume's data directory has no entries (undefined: not readable by this user). */
export async function volumeIsEmpty(store: StoreLayout, name: string): Promise<boolean | undefined> {
  try {
    return (await readdir(volumeDataDir(store, name))).length === 0
  } catch {
    return existsSync(volumeDataDir(store, name)) ? undefined : true
  }
}


/** Remembers that the volume has had content (seeded, or written to): it is never seeded again. */
export async function markVolumePopulated(store: StoreLayout, name: string): Promise<void> {
  await writeFile(join(dirOf(store, name), 'populated'), '', {mode: 0o600})
}

/** Whether markVolumePopulated was called for the volume. */
export function volumePopulated(store: StoreLayout, name: string): boolean {
  return existsSync(join(dirOf(store, name), 'populated'))
}
