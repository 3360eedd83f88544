/**
 * Containers: list, create, inspect, start/stop/restart/kill, wait, remove, rename, pause,
 * top, stats, prune (logs, attach, resize and archive in containers-io.ts; exec in exec.ts).
 */
import * as engine from '../../engine/containers.js'
import * as admin from '../../engine/container-admin.js'
import {statusText} from '../../cli/ps-row.js'
import {NotFoundError} from '../../errors.js'
import {parseFilterArgs} from '../../cli/filter-args.js'
import {parseDockerTime} from '../../cli/docker-time.js'
import {createOptionsFromApi} from '../create-options.js'
import {type ApiCall, ApiError, queryBool, queryFilters, queryInt, readJson, sendJson, sendNoContent} from '../http.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'
import type {AttachRegistry} from './attach-registry.js'

const sha = (id: string) => (id.startsWith('sha256:') ? id : `sha256:${id}`)

function param(call: ApiCall, name = 'id'): string {
  const v = call.params[name]
  if (!v) throw new ApiError(400, `missing ${name}`)
  return v
}

/** docker's Container summary (GET /containers/json). */
async function summary(deps: ApiDeps, c: engine.ContainerSummary, size: boolean) {
  const {record: rec, status} = c
  const out: Record<string, unknown> = {
    Id: rec.id,
    Names: [`/${rec.name}`],
    Image: rec.imageRef,
    ImageID: sha(rec.image),
    Command: engine.containerCommand(rec).join(' '),
    Created: Math.floor(Date.parse(rec.created) / 1000),
    Ports: c.ports.map((p) => ({IP: p.hostIp, PrivatePort: p.containerPort, PublicPort: p.hostPort, Type: p.protocol})),
    Labels: rec.labels ?? {},
    State: status.status,
    Status: statusText(status),
    HostConfig: {NetworkMode: rec.networks?.[0]?.name ?? (rec.network === 'slirp4netns' ? 'default' : String(rec.network))},
    NetworkSettings: {Networks: Object.fromEntries((rec.networks ?? []).map((n) => [n.name, {NetworkID: n.id, IPAddress: n.ip, Aliases: n.aliases}]))},
    Mounts: (rec.mounts ?? []).map((m) => ({Type: m.type, Name: m.name, Source: m.source, Destination: m.destination, RW: !m.readOnly})),
  }
  if (size) out.SizeRw = await engine.writableLayerSize(deps.ctx, rec)
  return out
}

async function list(call: ApiCall, deps: ApiDeps): Promise<void> {
  const limit = queryInt(call.query, 'limit')
  const all = queryBool(call.query, 'all')
  const rows = await engine.list(deps.ctx, {all, filters: queryFilters(call.query), last: limit !== undefined && limit > 0 ? limit : undefined})
  const size = queryBool(call.query, 'size')
  sendJson(call.res, 200, await Promise.all(rows.map((r) => summary(deps, r, size))))
}

async function create(call: ApiCall, deps: ApiDeps): Promise<void> {
  const body = await readJson(call)
  const name = call.query.get('name') ?? undefined
  if (name !== undefined && name !== '' && !/^\/?[a-zA-Z0-9][a-zA-Z0-9_.-]+$/.test(name)) throw new ApiError(400, `Invalid container name (${name}), only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`)
  const opts = createOptionsFromApi({name: name?.replace(/^\//, ''), body, hostEnv: {}})
  let rec
  try {
    rec = await engine.create(deps.ctx, opts)
  } catch (err) {
    if (err instanceof NotFoundError && /^no such image|not available for platform/.test(err.message)) throw new ApiError(404, `No such image: ${opts.image}`)
    throw err
  }
  sendJson(call.res, 201, {Id: rec.id, Warnings: []})
}

async function inspect(call: ApiCall, deps: ApiDeps): Promise<void> {
  sendJson(call.res, 200, await engine.inspect(deps.ctx, param(call), {size: queryBool(call.query, 'size')}))
}

async function start(call: ApiCall, deps: ApiDeps, attaches: AttachRegistry): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  if (engine.status(deps.ctx, rec).running) return sendNoContent(call.res, 304)
  const waiting = attaches.take(rec.id)
  if (waiting) await engine.startWithSession(deps.ctx, rec.id, waiting.session, waiting.done)
  else await engine.start(deps.ctx, rec.id)
  for (const p of attaches.rest(rec.id)) void engine.attach(deps.ctx, rec.id, p.session).then(p.done, () => p.done({detached: false, exitCode: 0}))
  sendNoContent(call.res)
}

async function stop(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  if (!engine.status(deps.ctx, rec).running) return sendNoContent(call.res, 304)
  await engine.stop(deps.ctx, rec.id, queryInt(call.query, 't'))
  sendNoContent(call.res)
}

async function restart(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  if (engine.status(deps.ctx, rec).running) await engine.stop(deps.ctx, rec.id, queryInt(call.query, 't'))
  await engine.start(deps.ctx, rec.id)
  sendNoContent(call.res)
}

async function kill(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  if (!engine.status(deps.ctx, rec).running) throw new ApiError(409, `Container ${rec.id} is not running`)
  const signal = call.query.get('signal') || 'SIGKILL'
  await engine.kill(deps.ctx, rec.id, /^\d+$/.test(signal) ? Number(signal) : signal)
  sendNoContent(call.res)
}

/** Headers at once (docker's client waits for them before it starts the container), the body at the exit. */
async function wait(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  const condition = call.query.get('condition') || 'not-running'
  if (!['not-running', 'next-exit', 'removed'].includes(condition)) throw new ApiError(400, `invalid condition: "${condition}"`)
  // next-exit: the state before the headers go out (the client starts the container as soon as
  // it has them, and a short-lived one may have exited before a wait begun later looks)
  const before = engine.status(deps.ctx, rec)
  call.res.writeHead(200, {'Content-Type': 'application/json'})
  call.res.flushHeaders()
  let gone = false
  call.res.on('close', () => (gone = true))
  let code: number
  let error: {Message: string} | null = null
  try {
    if (condition === 'next-exit' && !before.running) code = await nextExit(deps, rec, before.exit?.finishedAt, () => gone)
    else code = await engine.wait(deps.ctx, rec.id, condition === 'not-running' ? undefined : condition)
  } catch (err) {
    code = -1
    error = {Message: (err as Error).message}
  }
  call.res.end(JSON.stringify({StatusCode: code, Error: error}) + '\n')
}

/** The exit after `lastFinished` of a container that is not running now: it starts, then exits (polled). */
async function nextExit(deps: ApiDeps, rec: engine.ContainerRecord, lastFinished: string | undefined, gone: () => boolean): Promise<number> {
  for (;;) {
    if (gone()) return -1
    let current: engine.ContainerRecord
    try {
      current = await engine.record(deps.ctx, rec.id)
    } catch (err) {
      if (err instanceof NotFoundError) return 0
      throw err
    }
    const s = engine.status(deps.ctx, current)
    if (s.running) return engine.wait(deps.ctx, rec.id)
    if (s.exit && s.exit.finishedAt !== lastFinished) return s.exit.exitCode
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function remove(call: ApiCall, deps: ApiDeps, attaches: AttachRegistry): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  await engine.remove(deps.ctx, rec.id, {force: queryBool(call.query, 'force'), volumes: queryBool(call.query, 'v')})
  attaches.cancel(rec.id)
  sendNoContent(call.res)
}

async function rename(call: ApiCall, deps: ApiDeps): Promise<void> {
  const name = call.query.get('name')
  if (!name) throw new ApiError(400, 'rename needs a name')
  await admin.rename(deps.ctx, param(call), name.replace(/^\//, ''))
  sendNoContent(call.res)
}

async function top(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  if (!engine.status(deps.ctx, rec).running) throw new ApiError(409, `Container ${rec.id} is not running`)
  const psArgs = call.query.get('ps_args')
  const r = await admin.top(deps.ctx, rec.id, psArgs ? psArgs.split(/\s+/).filter(Boolean) : [])
  sendJson(call.res, 200, {Titles: r.titles, Processes: r.processes})
}

/** docker's stats document from one sample (CPU % as the deltas docker's client computes it from). */
function statsDocument(row: admin.StatsRow, intervalMs: number, read: Date, pre: Date) {
  const intervalNs = intervalMs * 1e6
  const cpus = 1
  return {
    read: read.toISOString(),
    preread: pre.toISOString(),
    id: row.id,
    name: `/${row.name}`,
    pids_stats: {current: row.pids ?? 0},
    num_procs: 0,
    cpu_stats: {
      cpu_usage: {total_usage: Math.round(((row.cpuPercent ?? 0) / 100) * intervalNs), usage_in_kernelmode: 0, usage_in_usermode: 0},
      system_cpu_usage: intervalNs,
      online_cpus: cpus,
      throttling_data: {periods: 0, throttled_periods: 0, throttled_time: 0},
    },
    precpu_stats: {cpu_usage: {total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0}, system_cpu_usage: 0, online_cpus: cpus, throttling_data: {periods: 0, throttled_periods: 0, throttled_time: 0}},
    memory_stats: row.running ? {usage: row.memUsage ?? 0, limit: row.memLimit ?? 0, stats: {}} : {},
    blkio_stats: {
      io_service_bytes_recursive: row.running
        ? [
            {major: 0, minor: 0, op: 'read', value: row.blockRead ?? 0},
            {major: 0, minor: 0, op: 'write', value: row.blockWrite ?? 0},
          ]
        : null,
    },
    networks: row.running ? {eth0: {rx_bytes: row.netRx ?? 0, rx_packets: 0, rx_errors: 0, rx_dropped: 0, tx_bytes: row.netTx ?? 0, tx_packets: 0, tx_errors: 0, tx_dropped: 0}} : undefined,
  }
}

async function stats(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  const stream = queryBool(call.query, 'stream', true)
  const oneShot = queryBool(call.query, 'one-shot')
  const intervalMs = oneShot ? 100 : 1000
  const sample = async () => {
    const pre = new Date()
    const [row] = await admin.stats(deps.ctx, [rec.id], {all: true, intervalMs})
    return statsDocument(row!, intervalMs, new Date(), pre)
  }
  if (!stream) return sendJson(call.res, 200, await sample())
  call.res.writeHead(200, {'Content-Type': 'application/json'})
  call.res.flushHeaders()
  let open = true
  call.res.on('close', () => (open = false))
  while (open) {
    const doc = await sample()
    if (!open) break
    call.res.write(JSON.stringify(doc) + '\n')
    if (!engine.status(deps.ctx, rec).running) break
  }
  call.res.end()
}

async function pause(call: ApiCall, deps: ApiDeps, paused: boolean): Promise<void> {
  await admin.setPaused(deps.ctx, param(call), paused)
  sendNoContent(call.res)
}

async function prune(call: ApiCall, deps: ApiDeps): Promise<void> {
  let filters: admin.PruneFilters
  try {
    const f = parseFilterArgs(queryFilters(call.query), ['until', 'label', 'label!'])
    const until = f.until?.[0]
    filters = {untilMs: until !== undefined ? parseDockerTime(until, Date.now(), 'until') : undefined, label: f.label, labelNot: f['label!']}
  } catch (err) {
    throw new ApiError(400, (err as Error).message)
  }
  const r = await admin.prune(deps.ctx, filters)
  sendJson(call.res, 200, {ContainersDeleted: r.removed.length ? r.removed : null, SpaceReclaimed: 0})
}

export function register(router: Router, deps: ApiDeps, attaches: AttachRegistry): void {
  router.get('/containers/json', (c) => list(c, deps))
  router.post('/containers/create', (c) => create(c, deps))
  router.post('/containers/prune', (c) => prune(c, deps))
  router.get('/containers/:id/json', (c) => inspect(c, deps))
  router.post('/containers/:id/start', (c) => start(c, deps, attaches))
  router.post('/containers/:id/stop', (c) => stop(c, deps))
  router.post('/containers/:id/restart', (c) => restart(c, deps))
  router.post('/containers/:id/kill', (c) => kill(c, deps))
  router.post('/containers/:id/wait', (c) => wait(c, deps))
  router.delete('/containers/:id', (c) => remove(c, deps, attaches))
  router.post('/containers/:id/rename', (c) => rename(c, deps))
  router.get('/containers/:id/top', (c) => top(c, deps))
  router.get('/containers/:id/stats', (c) => stats(c, deps))
  router.post('/containers/:id/pause', (c) => pause(c, deps, true))
  router.post('/containers/:id/unpause', (c) => pause(c, deps, false))
}
