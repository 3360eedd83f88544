import {createHash} from 'node:crypto'
import {createReadStream, readFileSync} from 'node:fs'
import {lstat, readdir, readFile, stat, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import type {Context} from '../context.js'
import type {ImageRecord} from '../oci/types.js'
import {cleanStaleIngest} from '../store/content.js'
import {imageRecordPath} from '../store/images.js'
import {diffIdOfLegacyLowerDir, KERNEL_FORM_SUFFIX} from '../store/layers.js'
import {MARKER_SUFFIX, readLayerMarker} from '../store/layer-marker.js'
import {readLeases} from '../store/leases.js'
import {isAlive, withStoreLock} from '../store/lock.js'
import {isStaleTemp} from '../store/temps.js'
import {removeTree} from '../userns/remove.js'

/**
 * `ctr-ts system check --store [--repair]`: verifies the store as a whole.
 *
 * - every blob: its content hashes to its name;
 * - every unpacked layer: its completeness marker (store/layer-marker.ts) names it;
 * - every image record: it parses, and every blob and layer directory it names is there and sound;
 * - every container record: its layers are there, its name reservation is its own;
 * - leftovers of killed processes: temporary files and directories, container directories
 *   without a record, name reservations and runtime directories of no container.
 *
 * With `repair`, what is broken is removed so the next pull fetches it again: corrupt blobs,
 * incomplete layers (unless a container uses them: that is reported, the container must go
 * first), image records with a broken reference, leftovers. Repair holds the store's `gc` lock
 * and leaves alone whatever a running pull has leased.
 */
export type StoreIssueKind = 'blob' | 'layer' | 'image' | 'container' | 'name' | 'leftover'

export interface StoreIssue {
  kind: StoreIssueKind
  /** A digest, an image reference, a container name or a path. */
  subject: string
  problem: string
  /** Set by a repair: removed (or restored), or why it was left. */
  repaired?: boolean
  note?: string
}

export interface StoreCheckReport {
  root: string
  blobs: number
  layers: number
  images: number
  containers: number
  issues: StoreIssue[]
  repair: boolean
}

const HEX64 = /^[a-f0-9]{64}$/
/** A container directory without a record younger than this may be a create in progress. */
const CREATE_GRACE_MS = 5_000

async function names(dir: string): Promise<string[]> {
  try {
    return await readdir(dir)
  } catch {
    return []
  }
}

async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256')
  await pipeline(createReadStream(path), hash)
  return hash.digest('hex')
}


class Checker {
  readonly issues: StoreIssue[] = []
  /** Blob digests present and verified. */
  readonly goodBlobs = new Set<string>()
  /** Layer diff ids whose directory is complete. */
  readonly goodLayers = new Set<string>()
  counts = {blobs: 0, layers: 0, images: 0, containers: 0}
  leased = new Set<string>()
  inUse = new Set<string>()
  /** False when layers were not checked (removeLeftovers): containers' layers are not judged then. */
  layersChecked = true

  constructor(
    readonly ctx: Context,
    readonly repair: boolean,
  ) {}

  private async fix(issue: StoreIssue, action: () => Promise<unknown>): Promise<void> {
    this.issues.push(issue)
    if (!this.repair) return
    try {
      await action()
      issue.repaired = true
    } catch (err) {
      issue.repaired = false
      issue.note = `could not repair: ${(err as Error).message.split('\n')[0]}`
    }
  }

  private report(issue: StoreIssue, note?: string): void {
    this.issues.push(this.repair ? {...issue, repaired: false, ...(note ? {note} : {})} : issue)
  }

  async blobs(): Promise<void> {
    const dir = this.ctx.store.blobs
    for (const name of await names(dir)) {
      const path = join(dir, name)
      if (!HEX64.test(name)) {
        await this.fix({kind: 'blob', subject: path, problem: 'not a blob (its name is not a sha256 digest)'}, () => unlink(path))
        continue
      }
      const digest = `sha256:${name}`
      this.counts.blobs++
      let actual: string
      try {
        if (!(await lstat(path)).isFile()) throw new Error('not a regular file')
        actual = await sha256File(path)
      } catch (err) {
        await this.fix({kind: 'blob', subject: digest, problem: `unreadable: ${(err as Error).message}`}, () => removeTree(path))
        continue
      }
      if (actual === name) this.goodBlobs.add(digest)
      else await this.fix({kind: 'blob', subject: digest, problem: `content does not match its digest (sha256:${actual.slice(0, 12)}...)`}, () => unlink(path))
    }
    for (const name of await names(this.ctx.store.ingest)) {
      const path = join(this.ctx.store.ingest, name)
      if (!/\.(\d+)\.[a-f0-9]+\.part$/.test(name)) continue
      const pid = Number(/\.(\d+)\.[a-f0-9]+\.part$/.exec(name)![1])
      if (pid !== process.pid && !isAlive(pid)) {
        await this.fix({kind: 'leftover', subject: path, problem: 'partial download of a process that is gone'}, () => cleanStaleIngest(this.ctx.store))
      }
    }
  }

  async layers(): Promise<void> {
    const dir = this.ctx.store.layers
    const entries = await names(dir)
    const present = new Set(entries)
    for (const name of entries) {
      const path = join(dir, name)
      if (name.startsWith('.tmp-')) {
        if (await isStaleTemp(path)) await this.fix({kind: 'leftover', subject: path, problem: 'temporary unpack directory of a process that is gone'}, () => removeTree(path))
        continue
      }
      if (name.endsWith(MARKER_SUFFIX)) {
        const hex = name.slice(0, -MARKER_SUFFIX.length)
        if (HEX64.test(hex) && !present.has(hex) && !this.leased.has(`sha256:${hex}`)) {
          await this.fix({kind: 'layer', subject: `sha256:${hex}`, problem: 'completeness marker without its layer directory'}, () => unlink(path))
        }
        continue
      }
      if (name.endsWith(KERNEL_FORM_SUFFIX)) {
        const hex = name.slice(0, -KERNEL_FORM_SUFFIX.length)
        if (HEX64.test(hex) && !present.has(hex)) {
          await this.fix({kind: 'leftover', subject: path, problem: 'kernel overlay form of a layer that is gone'}, () => removeTree(path))
        }
        continue
      }
      if (!HEX64.test(name)) continue
      const diffId = `sha256:${name}`
      this.counts.layers++
      let problem: string | undefined
      try {
        if (!(await lstat(path)).isDirectory()) problem = 'not a directory'
      } catch {
        continue // removed meanwhile
      }
      if (!problem && !(await readLayerMarker(this.ctx.store, diffId))) problem = 'no completeness marker (unpacking never finished)'
      if (!problem) {
        this.goodLayers.add(diffId)
        continue
      }
      if (this.inUse.has(name)) {
        this.report({kind: 'layer', subject: diffId, problem}, 'used by a container: remove the container first')
        continue
      }
      await this.fix({kind: 'layer', subject: diffId, problem}, async () => {
        await removeTree(path)
        await unlink(join(dir, name + MARKER_SUFFIX)).catch(() => {})
      })
    }
  }

  async images(): Promise<void> {
    const dir = this.ctx.store.images
    for (const name of await names(dir)) {
      const path = join(dir, name)
      if (name.startsWith('.tmp-')) {
        if (await isStaleTemp(path)) await this.fix({kind: 'leftover', subject: path, problem: 'temporary image record of a process that is gone'}, () => unlink(path))
        continue
      }
      if (!/^[a-f0-9]{64}\.json$/.test(name)) continue
      this.counts.images++
      let rec: ImageRecord
      try {
        rec = JSON.parse(await readFile(path, 'utf8')) as ImageRecord
        if (typeof rec.ref !== 'string' || typeof rec.id !== 'string' || typeof rec.manifestDigest !== 'string' || !Array.isArray(rec.layers)) throw new Error('not an image record')
        if (imageRecordPath(this.ctx.store, rec.ref) !== path) throw new Error(`stored under the wrong name for ${rec.ref}`)
      } catch (err) {
        await this.fix({kind: 'image', subject: path, problem: `unreadable image record: ${(err as Error).message}`}, () => unlink(path))
        continue
      }
      const missing: string[] = []
      const blob = (what: string, digest: string | undefined) => {
        if (digest !== undefined && !this.goodBlobs.has(digest)) missing.push(`${what} ${digest}`)
      }
      blob('manifest', rec.manifestDigest)
      blob('index', rec.indexDigest)
      blob('config', rec.id)
      for (const l of rec.layers) {
        blob('layer blob', l.digest)
        if (!this.goodLayers.has(l.diffId)) missing.push(`unpacked layer ${l.diffId}`)
      }
      if (missing.length > 0) {
        const more = missing.length > 1 ? ` (and ${missing.length - 1} more)` : ''
        await this.fix({kind: 'image', subject: rec.ref, problem: `missing or broken: ${missing[0]}${more}; the next pull fetches it again`}, () => unlink(path))
      }
    }
  }

  async containers(): Promise<void> {
    const {store, run} = this.ctx
    const ids = new Set<string>()
    for (const id of await names(store.containers)) {
      const dir = join(store.containers, id)
      let rec: {id?: unknown; name?: unknown; diffIds?: unknown; lowerDirs?: unknown}
      try {
        rec = JSON.parse(await readFile(join(dir, 'container.json'), 'utf8')) as typeof rec
      } catch {
        if (await this.creating(dir)) {
          ids.add(id)
          continue
        }
        await this.fix({kind: 'leftover', subject: dir, problem: 'container directory without a record (a create or rm was killed)'}, () => this.removeContainerLeftovers(id))
        continue
      }
      ids.add(id)
      this.counts.containers++
      const name = typeof rec.name === 'string' ? rec.name : id.slice(0, 12)
      // records keep diff ids; records of ctr-ts 0.x kept absolute lower directories
      const diffIds = Array.isArray(rec.diffIds)
        ? rec.diffIds.filter((d): d is string => typeof d === 'string')
        : (Array.isArray(rec.lowerDirs) ? rec.lowerDirs : []).flatMap((d) => {
            const id = typeof d === 'string' ? diffIdOfLegacyLowerDir(d) : undefined
            return id ? [id] : []
          })
      for (const diffId of this.layersChecked ? diffIds : []) {
        if (!this.goodLayers.has(diffId)) this.report({kind: 'container', subject: name, problem: `its layer ${diffId} is missing or incomplete`}, 'remove the container (rm -f) and run it again')
      }
      const nameFile = join(store.names, name)
      const owner = await readFile(nameFile, 'utf8').then((s) => s.trim(), () => undefined)
      if (owner === undefined) {
        await this.fix({kind: 'name', subject: name, problem: 'the container has no name reservation'}, () => writeFile(nameFile, id, {flag: 'wx', mode: 0o600}))
      } else if (owner !== id) {
        this.report({kind: 'name', subject: name, problem: `reserved by another container ${owner.slice(0, 12)}`}, 'rename or remove one of them')
      }
    }
    for (const name of await names(store.names)) {
      const file = join(store.names, name)
      const owner = await readFile(file, 'utf8').then((s) => s.trim(), () => '')
      if (ids.has(owner)) continue
      // a name reserved just now by a create that has not made its directory yet
      const young = await stat(file).then((s) => Date.now() - s.mtimeMs < CREATE_GRACE_MS, () => true)
      if (young) continue
      await this.fix({kind: 'name', subject: name, problem: `reserved for a container that does not exist (${owner.slice(0, 12) || 'empty'})`}, () => unlink(file))
    }
    const shorts = new Set([...ids].map((id) => id.slice(0, 12)))
    for (const short of await names(run.containers)) {
      if (!shorts.has(short)) await this.fix({kind: 'leftover', subject: join(run.containers, short), problem: 'runtime directory of a container that does not exist'}, () => removeTree(join(run.containers, short)))
    }
    for (const id of await names(run.runc)) {
      if (HEX64.test(id) && !ids.has(id)) await this.fix({kind: 'leftover', subject: join(run.runc, id), problem: 'runtime state of a container that does not exist'}, () => removeTree(join(run.runc, id)))
    }
  }

  /** A container directory without a record whose creator may still be writing it. */
  private async creating(dir: string): Promise<boolean> {
    try {
      const [pid] = readFileSync(join(dir, 'creating'), 'utf8').trim().split(' ')
      return isAlive(Number(pid))
    } catch {
      // no creator file: young directories are given the benefit of the doubt
    }
    return stat(dir).then((s) => Date.now() - s.mtimeMs < CREATE_GRACE_MS, () => false)
  }

  private async removeContainerLeftovers(id: string): Promise<void> {
    const {store, run} = this.ctx
    await removeTree(join(store.containers, id), join(run.containers, id.slice(0, 12)), join(run.runc, id))
    for (const name of await names(store.names)) {
      const file = join(store.names, name)
      if ((await readFile(file, 'utf8').catch(() => '')).trim() === id) await unlink(file).catch(() => {})
    }
  }
}

/** What running pulls hold (blob digests and diff ids): repair leaves it alone. */
async function pullLeased(ctx: Context): Promise<Set<string>> {
  const leases = (await readLeases(ctx.store)).filter((l) => l.pid !== undefined)
  return new Set(leases.flatMap((l) => [...l.content, ...l.layers]))
}

/** The layers containers hold (by diff id hex). */
async function containerLayers(ctx: Context): Promise<Set<string>> {
  const leases = (await readLeases(ctx.store)).filter((l) => l.pid === undefined)
  return new Set(leases.flatMap((l) => l.layers).map((d) => d.slice('sha256:'.length)))
}

/** Runs every check; with `repair`, removes what is broken (holding the store's gc lock). */
export async function checkStore(ctx: Context, opts: {repair: boolean}): Promise<StoreCheckReport> {
  const run = async () => {
    const c = new Checker(ctx, opts.repair)
    c.leased = await pullLeased(ctx)
    c.inUse = await containerLayers(ctx)
    await c.blobs()
    await c.layers()
    await c.images()
    await c.containers()
    return {root: ctx.store.root, ...c.counts, issues: c.issues, repair: opts.repair}
  }
  return opts.repair ? withStoreLock(ctx.store, 'gc', run) : run()
}

/**
 * What killed processes leave behind, removed (for `system prune`): container directories
 * without a record, names and runtime directories of no container, temporary files and
 * directories of dead processes. Blobs are not hashed here.
 */
export async function removeLeftovers(ctx: Context): Promise<StoreIssue[]> {
  return withStoreLock(ctx.store, 'gc', async () => {
    const c = new Checker(ctx, true)
    c.leased = await pullLeased(ctx)
    c.layersChecked = false
    for (const name of await names(ctx.store.layers)) {
      const path = join(ctx.store.layers, name)
      if (name.startsWith('.tmp-') && (await isStaleTemp(path))) {
        c.issues.push({kind: 'leftover', subject: path, problem: 'temporary unpack directory of a process that is gone', repaired: true})
        await removeTree(path)
      }
    }
    await c.containers()
    return c.issues
  })
}

/** One line per issue, then a summary line. */
export function formatStoreReport(r: StoreCheckReport): string[] {
  const lines = [`store ${r.root}: ${r.blobs} blobs, ${r.layers} unpacked layers, ${r.images} image records, ${r.containers} containers checked`]
  for (const i of r.issues) {
    const outcome = i.repaired === true ? ' [repaired]' : i.repaired === false ? ` [not repaired${i.note ? `: ${i.note}` : ''}]` : ''
    lines.push(`${i.kind} ${i.subject}: ${i.problem}${outcome}`)
  }
  const left = r.issues.filter((i) => i.repaired !== true).length
  if (r.issues.length === 0) lines.push('store is consistent')
  else if (r.repair) lines.push(`${r.issues.length} problem(s), ${r.issues.length - left} repaired, ${left} left`)
  else lines.push(`${r.issues.length} problem(s): ctr-ts system check --store --repair removes what is broken`)
  return lines
}
