/**
 * Network endpoints of the Docker Engine API over the engine's network facade (what `network
 * create|ls|inspect|connect|disconnect|rm|prune` use). docker's built-in networks (bridge: ctr-ts's
 * default slirp4netns network, host, none) are listed and inspected as docker shows them, and
 * cannot be created, removed or connected to.
 */
import * as networks from '../../engine/networks.js'
import {ConflictError, NotFoundError} from '../../errors.js'
import {findBuiltinNetwork} from '../../network/builtin.js'
import {matchNetwork, parseNetworkFilters} from '../../network/filters.js'
import {type ApiCall, ApiError, queryFilters, readJson, sendJson, sendNoContent} from '../http.js'
import {boolField, keyValueField, registerTable, stringField, type TableRoute} from '../objects-http.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

/** A network's document (user-defined or pre-defined) in the shape docker lists and inspects. */
async function userDoc(deps: ApiDeps, nameOrId: string): Promise<Record<string, unknown>> {
  const doc = await networks.networkInspect(deps.ctx, nameOrId).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new ApiError(404, `network ${nameOrId} not found`)
    throw err
  })
  const ipam = doc.IPAM as {Driver: string; Config: unknown[]}
  return {...doc, IPAM: {...ipam, Options: null}, ConfigFrom: {Network: ''}, ConfigOnly: false}
}

async function list(call: ApiCall, deps: ApiDeps): Promise<void> {
  const filters = parseNetworkFilters(queryFilters(call.query))
  const out: Record<string, unknown>[] = []
  for (const row of await networks.networkList(deps.ctx)) {
    if (!matchNetwork(row.net, filters)) continue
    out.push(await userDoc(deps, row.net.builtin ? row.net.name : row.net.id))
  }
  sendJson(call.res, 200, out)
}

async function inspect(call: ApiCall, deps: ApiDeps, [nameOrId]: string[]): Promise<void> {
  sendJson(call.res, 200, await userDoc(deps, nameOrId!))
}

async function create(call: ApiCall, deps: ApiDeps): Promise<void> {
  const body = await readJson(call)
  const name = stringField(body, 'Name')
  if (!name) throw new ApiError(400, 'network name is required')
  if (findBuiltinNetwork(name)?.name === name) throw new ApiError(409, `network with name ${name} already exists`)
  if (boolField(body, 'EnableIPv6')) throw new ApiError(400, 'ctr-ts networks are IPv4 only (EnableIPv6 is not supported)')
  const ipam = body.IPAM as {Config?: Array<{Subnet?: unknown; Gateway?: unknown}> | null} | null | undefined
  if (ipam !== undefined && ipam !== null && typeof ipam !== 'object') throw new ApiError(400, 'IPAM: expected an object')
  const configs = ipam?.Config ?? []
  if (!Array.isArray(configs)) throw new ApiError(400, 'IPAM.Config: expected an array')
  if (configs.length > 1) throw new ApiError(400, 'ctr-ts networks have one subnet (IPAM.Config has several)')
  const first = (configs[0] ?? {}) as Record<string, unknown>
  const driver = stringField(body, 'Driver')
  const net = await networks.networkCreate(deps.ctx, {
    name,
    subnet: stringField(first, 'Subnet'),
    gateway: stringField(first, 'Gateway'),
    internal: boolField(body, 'Internal'),
    labels: keyValueField(body, 'Labels'),
    ...(driver ? {driver} : {}),
  })
  sendJson(call.res, 201, {Id: net.id, Warning: ''})
}

function refuseBuiltin(nameOrId: string, what: string): void {
  const b = findBuiltinNetwork(nameOrId)
  if (b) throw new ApiError(403, `${b.name} is a pre-defined network and cannot be ${what}`)
}

async function remove(call: ApiCall, deps: ApiDeps, [nameOrId]: string[]): Promise<void> {
  refuseBuiltin(nameOrId!, 'removed')
  await networks.networkRemove(deps.ctx, nameOrId!).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new ApiError(404, `network ${nameOrId} not found`)
    if (err instanceof ConflictError) throw new ApiError(403, `error while removing network: ${err.message}`)
    throw err
  })
  sendNoContent(call.res)
}

async function connect(call: ApiCall, deps: ApiDeps, [nameOrId]: string[]): Promise<void> {
  const body = await readJson(call)
  const container = stringField(body, 'Container')
  if (!container) throw new ApiError(400, 'Container is required')
  refuseBuiltin(nameOrId!, 'connected to (ctr-ts connects only user-defined networks)')
  const ep = (body.EndpointConfig ?? {}) as {Aliases?: unknown; IPAMConfig?: {IPv4Address?: unknown} | null}
  if (typeof ep !== 'object') throw new ApiError(400, 'EndpointConfig: expected an object')
  const aliases = Array.isArray(ep.Aliases) ? ep.Aliases.map(String) : []
  const ip = typeof ep.IPAMConfig?.IPv4Address === 'string' && ep.IPAMConfig.IPv4Address !== '' ? ep.IPAMConfig.IPv4Address : undefined
  await networks.networkConnect(deps.ctx, {network: nameOrId!, container, aliases, ...(ip ? {ip} : {})})
  sendJson(call.res, 200, null)
}

async function disconnect(call: ApiCall, deps: ApiDeps, [nameOrId]: string[]): Promise<void> {
  const body = await readJson(call)
  const container = stringField(body, 'Container')
  if (!container) throw new ApiError(400, 'Container is required')
  refuseBuiltin(nameOrId!, 'disconnected from (ctr-ts disconnects only user-defined networks)')
  await networks.networkDisconnect(deps.ctx, {network: nameOrId!, container})
  sendJson(call.res, 200, null)
}

async function prune(call: ApiCall, deps: ApiDeps): Promise<void> {
  const filters = parseNetworkFilters(queryFilters(call.query).filter((f) => !f.startsWith('until=')))
  const removed = await networks.networkPrune(deps.ctx, (net) => !matchNetwork(net, filters))
  sendJson(call.res, 200, {NetworksDeleted: removed})
}

const TABLE: TableRoute[] = [
  {method: 'GET', pattern: /^\/networks\/([^/]+)$/, handle: inspect},
  {method: 'DELETE', pattern: /^\/networks\/([^/]+)$/, handle: remove},
  {method: 'POST', pattern: /^\/networks\/([^/]+)\/connect$/, handle: connect},
  {method: 'POST', pattern: /^\/networks\/([^/]+)\/disconnect$/, handle: disconnect},
]

export function register(router: Router, deps: ApiDeps): void {
  router.get('/networks', (call) => list(call, deps))
  router.post('/networks/create', (call) => create(call, deps))
  router.post('/networks/prune', (call) => prune(call, deps))
  registerTable(router, deps, '/networks', TABLE)
}
