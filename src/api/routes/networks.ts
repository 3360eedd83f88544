/**
 * Network endpoints of the Docker Engine API over the engine's network facade (what `network
 * create|ls|inspect|connect|disconnect|rm|prune` use). docker's built-in networks (bridge: ctr-ts's
 * default slirp4netns network, host, none) are listed and inspected as docker shows them, and
 * cannot be created, removed or connected to.
 */
import {createHash} from 'node:crypto'
import * as networks from '../../engine/networks.js'
import {ConflictError, NotFoundError} from '../../errors.js'
import {matchNetwork, parseNetworkFilters} from '../../network/filters.js'
import {type ApiCall, ApiError, queryFilters, readJson, sendJson, sendNoContent} from '../http.js'
import {boolField, keyValueField, registerTable, stringField, type TableRoute} from '../objects-http.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

const BUILTIN: ReadonlyArray<{name: string; driver: string; ipam: Array<{Subnet: string; Gateway: string}>}> = [
  {name: 'bridge', driver: 'bridge', ipam: [{Subnet: '10.0.2.0/24', Gateway: '10.0.2.2'}]},
  {name: 'host', driver: 'host', ipam: []},
  {name: 'none', driver: 'null', ipam: []},
]

/** A built-in network's id: stable, 64 hex digits as docker's. */
export function builtinId(name: string): string {
  return createHash('sha256').update(`ctr-ts builtin network ${name}`).digest('hex')
}

function builtinDoc(b: (typeof BUILTIN)[number]): Record<string, unknown> {
  return {
    Name: b.name,
    Id: builtinId(b.name),
    Created: '1970-01-01T00:00:00Z',
    Scope: 'local',
    Driver: b.driver,
    EnableIPv6: false,
    IPAM: {Driver: 'default', Options: null, Config: b.ipam},
    Internal: false,
    Attachable: false,
    Ingress: false,
    ConfigFrom: {Network: ''},
    ConfigOnly: false,
    Containers: {},
    Options: {},
    Labels: {},
  }
}

function findBuiltin(nameOrId: string): (typeof BUILTIN)[number] | undefined {
  return BUILTIN.find((b) => b.name === nameOrId || (nameOrId.length >= 3 && builtinId(b.name).startsWith(nameOrId)))
}

/** The user-defined network's document in the shape docker lists and inspects. */
async function userDoc(deps: ApiDeps, nameOrId: string): Promise<Record<string, unknown>> {
  const doc = await networks.networkInspect(deps.ctx, nameOrId).catch((err: unknown) => {
    if (err instanceof NotFoundError) throw new ApiError(404, `network ${nameOrId} not found`)
    throw err
  })
  const ipam = doc.IPAM as {Driver: string; Config: unknown[]}
  return {...doc, IPAM: {...ipam, Options: null}, ConfigFrom: {Network: ''}, ConfigOnly: false}
}

/** Which of the built-ins the filters keep (name, id, driver, type=builtin, scope). */
function builtinMatches(b: (typeof BUILTIN)[number], filters: Map<string, string[]>): boolean {
  for (const [key, wants] of filters) {
    const ok = wants.some((w) => {
      switch (key) {
        case 'name':
          return b.name.includes(w)
        case 'id':
          return builtinId(b.name).startsWith(w)
        case 'driver':
          return b.driver === w
        case 'type':
          return w === 'builtin'
        case 'scope':
          return w === 'local'
        default:
          return false
      }
    })
    if (!ok) return false
  }
  return true
}

async function list(call: ApiCall, deps: ApiDeps): Promise<void> {
  const filters = parseNetworkFilters(queryFilters(call.query))
  const out: Record<string, unknown>[] = BUILTIN.filter((b) => builtinMatches(b, filters)).map(builtinDoc)
  for (const row of await networks.networkList(deps.ctx)) {
    if (!matchNetwork(row.net, filters)) continue
    if ((filters.get('type') ?? []).includes('builtin') && !(filters.get('type') ?? []).includes('custom')) continue
    out.push(await userDoc(deps, row.net.id))
  }
  sendJson(call.res, 200, out)
}

async function inspect(call: ApiCall, deps: ApiDeps, [nameOrId]: string[]): Promise<void> {
  const b = findBuiltin(nameOrId!)
  sendJson(call.res, 200, b ? builtinDoc(b) : await userDoc(deps, nameOrId!))
}

async function create(call: ApiCall, deps: ApiDeps): Promise<void> {
  const body = await readJson(call)
  const name = stringField(body, 'Name')
  if (!name) throw new ApiError(400, 'network name is required')
  if (findBuiltin(name)?.name === name) throw new ApiError(409, `network with name ${name} already exists`)
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
  const b = findBuiltin(nameOrId)
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
