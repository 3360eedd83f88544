/**
 * Volume endpoints of the Docker Engine API over the engine's volume facade (what `volume
 * create|ls|inspect|rm|prune` use), with docker's shapes and status codes.
 */
import * as volumes from '../../engine/volumes.js'
import {NotFoundError} from '../../errors.js'
import {type ApiCall, ApiError, queryBool, queryFilters, readJson, sendJson, sendNoContent} from '../http.js'
import {keyValueField, registerTable, stringField, type TableRoute} from '../objects-http.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

/** docker's Volume document (Options null when there are none, as docker's local driver). */
function volumeDoc(v: volumes.VolumeInspect): Record<string, unknown> {
  return {...v, Options: Object.keys(v.Options).length > 0 ? v.Options : null}
}

async function inspectOne(deps: ApiDeps, name: string): Promise<volumes.VolumeInspect> {
  try {
    return await volumes.inspect(deps.ctx, name)
  } catch (err) {
    if (err instanceof NotFoundError) throw new ApiError(404, `get ${name}: no such volume`)
    throw err
  }
}

async function list(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rows = await volumes.list(deps.ctx, queryFilters(call.query))
  const docs = []
  for (const r of rows) docs.push(volumeDoc(await volumes.inspect(deps.ctx, r.volume.name)))
  sendJson(call.res, 200, {Volumes: docs, Warnings: []})
}

async function create(call: ApiCall, deps: ApiDeps): Promise<void> {
  const body = await readJson(call)
  const name = await volumes.create(deps.ctx, {
    name: stringField(body, 'Name'),
    driver: stringField(body, 'Driver'),
    labels: keyValueField(body, 'Labels'),
    options: keyValueField(body, 'DriverOpts'),
  })
  sendJson(call.res, 201, volumeDoc(await inspectOne(deps, name)))
}

async function inspect(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  sendJson(call.res, 200, volumeDoc(await inspectOne(deps, name!)))
}

async function remove(call: ApiCall, deps: ApiDeps, [name]: string[]): Promise<void> {
  await inspectOne(deps, name!)
  try {
    await volumes.remove(deps.ctx, name!)
  } catch (err) {
    if (err instanceof NotFoundError && queryBool(call.query, 'force')) {
      sendNoContent(call.res)
      return
    }
    throw err
  }
  sendNoContent(call.res)
}

async function prune(call: ApiCall, deps: ApiDeps): Promise<void> {
  // API 1.41 prunes every unused volume; `all=false` keeps the named ones (docker 23+'s default)
  const filters = queryFilters(call.query)
  const all = !filters.some((f) => f === 'all=false' || f === 'all=0')
  const res = await volumes.prune(deps.ctx, {all, filters: filters.filter((f) => !f.startsWith('all='))})
  sendJson(call.res, 200, {VolumesDeleted: res.removed, SpaceReclaimed: res.bytes})
}

const TABLE: TableRoute[] = [
  {method: 'GET', pattern: /^\/volumes\/([^/]+)$/, handle: inspect},
  {method: 'DELETE', pattern: /^\/volumes\/([^/]+)$/, handle: remove},
]

export function register(router: Router, deps: ApiDeps): void {
  router.get('/volumes', (call) => list(call, deps))
  router.post('/volumes/create', (call) => create(call, deps))
  router.post('/volumes/prune', (call) => prune(call, deps))
  registerTable(router, deps, '/volumes', TABLE)
}
