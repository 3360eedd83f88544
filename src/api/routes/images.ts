/**
 * Image endpoints of the Docker Engine API over the engine's image facade (the functions the
 * `pull`, `images`, `rmi`, `tag`, `push`, `save`, `load`, `import` and `image prune` commands use):
 * docker's JSON shapes, status codes and JSON-lines progress streams.
 */
import type {Readable} from 'node:stream'
import * as admin from '../../engine/image-admin.js'
import * as images from '../../engine/images.js'
import {NotFoundError} from '../../errors.js'
import {parseReference} from '../../reference/parse.js'
import {type ApiCall, ApiError, queryBool, queryFilters, sendJson, sendNoContent} from '../http.js'
import {PullMessages, pushMessages} from '../image-progress.js'
import {jsonLines, registerTable, type TableRoute, unixSeconds} from '../objects-http.js'
import {contextWithCredentials, decodeRegistryAuth} from '../registry-auth.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

/** docker's ImageSummary (GET /images/json). */
export interface ImageSummary {
  Id: string
  ParentId: string
  RepoTags: string[]
  RepoDigests: string[]
  Created: number
  Size: number
  SharedSize: number
  VirtualSize: number
  Labels: Record<string, string>
  Containers: number
}

/** The rows of `images` (one per reference) grouped by image id, as docker lists them. */
export function imageSummaries(rows: readonly images.ImageRow[], labels: (id: string) => Record<string, string> | undefined): ImageSummary[] {
  const byId = new Map<string, ImageSummary>()
  for (const row of rows) {
    let s = byId.get(row.Id)
    if (!s) {
      s = {Id: row.Id, ParentId: '', RepoTags: [], RepoDigests: [], Created: unixSeconds(row.Created), Size: row.Size, SharedSize: -1, VirtualSize: row.Size, Labels: labels(row.Id) ?? {}, Containers: -1}
      byId.set(row.Id, s)
    }
    if (row.Tag !== '<none>') s.RepoTags.push(`${row.Repository}:${row.Tag}`)
    const digest = `${row.Repository}@${row.Digest}`
    if (row.Digest && !s.RepoDigests.includes(digest)) s.RepoDigests.push(digest)
  }
  const out = [...byId.values()]
  for (const s of out) if (s.RepoTags.length === 0) s.RepoTags.push('<none>:<none>')
  return out
}

/** docker's messages say `No such image: X` with the name as the client gave it. */
function noSuchImage(err: unknown, name: string): unknown {
  return err instanceof NotFoundError ? new ApiError(404, `No such image: ${name}`) : err
}

async function inspectOne(call: ApiCall, deps: ApiDeps, name: string): Promise<images.ImageInspect> {
  const {images: found, errors} = await images.inspectImages(deps.ctx, [name])
  if (found[0]) return found[0]
  throw noSuchImage(errors[0], name)
}

async function list(call: ApiCall, deps: ApiDeps): Promise<void> {
  // docker's filters: dangling, label, before, since, reference (ctr-ts keeps no untagged images)
  const filters = queryFilters(call.query).filter((f) => f !== 'dangling=false')
  if (filters.some((f) => f === 'dangling=true' || f === 'dangling=1')) {
    sendJson(call.res, 200, [])
    return
  }
  const rows = await images.listImages(deps.ctx, {filters})
  const ids = [...new Set(rows.map((r) => r.Id))]
  const labels = new Map<string, Record<string, string>>()
  if (ids.length > 0) {
    const {images: docs} = await images.inspectImages(deps.ctx, ids)
    for (const d of docs) labels.set(d.Id, d.Config.Labels ?? {})
  }
  sendJson(call.res, 200, imageSummaries(rows, (id) => labels.get(id)))
}

/** The reference `fromImage` + `tag` name (the tag may be a digest, as docker's client sends it). */
export function pullReference(fromImage: string, tag: string | null): string {
  if (!tag) return fromImage
  if (/^[a-z0-9]+:[a-f0-9]{32,}$/.test(tag)) return `${fromImage}@${tag}`
  return `${fromImage}:${tag}`
}

async function create(call: ApiCall, deps: ApiDeps): Promise<void> {
  const fromSrc = call.query.get('fromSrc')
  if (fromSrc) return importImage(call, deps, fromSrc)
  const fromImage = call.query.get('fromImage')
  if (!fromImage) throw new ApiError(400, 'fromImage or fromSrc is required')
  const ref = pullReference(fromImage, call.query.get('tag'))
  try {
    parseReference(ref)
  } catch (err) {
    throw new ApiError(400, (err as Error).message)
  }
  const ctx = contextWithCredentials(deps.ctx, ref, decodeRegistryAuth(call.req.headers['x-registry-auth']))
  const out = jsonLines(call.res)
  const progress = new PullMessages(ref)
  const platform = call.query.get('platform') || undefined
  const done = deps.idle.begin()
  try {
    await images.pullImage(ctx, ref, {platform, onEvent: (e) => progress.messages(e).forEach((m) => out.write(m))})
    out.write(progress.final())
    out.end()
  } catch (err) {
    out.fail(err)
  } finally {
    done()
  }
}

async function importImage(call: ApiCall, deps: ApiDeps, fromSrc: string): Promise<void> {
  if (fromSrc !== '-') throw new ApiError(501, 'ctr-ts imports only the request body (fromSrc=-)')
  const repo = call.query.get('repo')
  if (!repo) throw new ApiError(400, 'ctr-ts keeps only named images: give repo (and tag)')
  const ref = pullReference(repo, call.query.get('tag'))
  const out = jsonLines(call.res)
  try {
    const res = await images.importImage(deps.ctx, call.req as Readable, {ref, changes: call.query.getAll('changes'), message: call.query.get('message') ?? undefined})
    out.write({status: res.id})
    out.end()
  } catch (err) {
    out.fail(err)
  }
}

async function inspect(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  sendJson(call.res, 200, await inspectOne(call, deps, name!))
}

async function history(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  const items = await admin.history(deps.ctx, name!).catch((err) => {
    throw noSuchImage(err, name!)
  })
  const doc = await inspectOne(call, deps, name!)
  sendJson(
    call.res,
    200,
    items.map((h, i) => ({Id: h.Id, Created: unixSeconds(h.Created), CreatedBy: h.CreatedBy, Tags: i === 0 ? doc.RepoTags : null, Size: h.Size, Comment: h.Comment})),
  )
}

async function tag(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  const repo = call.query.get('repo')
  if (!repo) throw new ApiError(400, 'repo is required')
  const target = pullReference(repo, call.query.get('tag'))
  try {
    parseReference(target)
  } catch (err) {
    throw new ApiError(400, (err as Error).message)
  }
  await admin.tag(deps.ctx, name!, target).catch((err) => {
    throw noSuchImage(err, name!)
  })
  sendNoContent(call.res, 201)
}

async function remove(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  const res = await images.removeImages(deps.ctx, [name!], {force: queryBool(call.query, 'force')})
  if (res.errors.length > 0) throw noSuchImage(res.errors[0], name!)
  sendJson(call.res, 200, responseItems(res.lines))
}

/** "Untagged: x" / "Deleted: sha256:…" lines as docker's ImageDeleteResponseItem list. */
export function responseItems(lines: readonly string[]): Array<{Untagged: string} | {Deleted: string}> {
  const out: Array<{Untagged: string} | {Deleted: string}> = []
  for (const line of lines) {
    if (line.startsWith('Untagged: ')) out.push({Untagged: line.slice(10)})
    else if (line.startsWith('Deleted: ')) out.push({Deleted: line.slice(9)})
  }
  return out
}

async function push(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  const ref = pullReference(name!, call.query.get('tag'))
  await inspectOne(call, deps, ref)
  const ctx = contextWithCredentials(deps.ctx, ref, decodeRegistryAuth(call.req.headers['x-registry-auth']))
  const out = jsonLines(call.res)
  const done = deps.idle.begin()
  try {
    await images.pushImage(ctx, ref, {onEvent: (e) => pushMessages(e).forEach((m) => out.write(m))})
    out.end()
  } catch (err) {
    out.fail(err)
  } finally {
    done()
  }
}

async function save(call: ApiCall, deps: ApiDeps, names: string[]): Promise<void> {
  if (names.length === 0) throw new ApiError(400, 'names is required')
  for (const n of names) await inspectOne(call, deps, n)
  call.res.writeHead(200, {'Content-Type': 'application/x-tar'})
  const done = deps.idle.begin()
  try {
    await images.saveImages(deps.ctx, names, call.res, 'docker-archive')
    if (!call.res.writableEnded) call.res.end()
  } catch {
    // the tar is half-written: the client must see a broken stream, not a short archive
    call.res.destroy()
  } finally {
    done()
  }
}

async function load(call: ApiCall, deps: ApiDeps): Promise<void> {
  const out = jsonLines(call.res)
  const done = deps.idle.begin()
  try {
    const res = await images.loadImages(deps.ctx, call.req)
    for (const ref of res.refs) out.write({stream: `Loaded image: ${familiar(ref)}\n`})
    for (const id of res.untagged) out.write({stream: `Loaded image ID: ${id}\n`})
    out.end()
  } catch (err) {
    out.fail(err)
  } finally {
    done()
  }
}

function familiar(ref: string): string {
  try {
    return parseReference(ref).familiar()
  } catch {
    return ref
  }
}

async function prune(call: ApiCall, deps: ApiDeps): Promise<void> {
  const all = queryFilters(call.query)
  const dangling = all.filter((f) => f.startsWith('dangling='))
  const filters = all.filter((f) => !f.startsWith('dangling='))
  const everyUnused = dangling.some((f) => f === 'dangling=false' || f === 'dangling=0')
  const res = await images.pruneImages(deps.ctx, {all: everyUnused, filters})
  sendJson(call.res, 200, {ImagesDeleted: responseItems(res.lines), SpaceReclaimed: res.gc.blobBytes})
}

const TABLE: TableRoute[] = [
  {method: 'GET', pattern: /^\/images\/(.+)\/json$/, handle: inspect},
  {method: 'GET', pattern: /^\/images\/(.+)\/history$/, handle: history},
  {method: 'GET', pattern: /^\/images\/(.+)\/get$/, handle: (call, deps, [name]) => save(call, deps, [name!])},
  {method: 'POST', pattern: /^\/images\/(.+)\/tag$/, handle: tag},
  {method: 'POST', pattern: /^\/images\/(.+)\/push$/, handle: push},
  {method: 'DELETE', pattern: /^\/images\/(.+)$/, handle: remove},
]

export function register(router: Router, deps: ApiDeps): void {
  router.get('/images/json', (call) => list(call, deps))
  router.post('/images/create', (call) => create(call, deps))
  router.post('/images/load', (call) => load(call, deps))
  router.post('/images/prune', (call) => prune(call, deps))
  router.get('/images/get', (call) => save(call, deps, call.query.getAll('names')))
  router.get('/images/search', () => {
    throw new ApiError(501, 'ctr-ts does not implement GET /images/search (registry search)')
  })
  registerTable(router, deps, '/images', TABLE)
}
