/** System endpoints: _ping (GET, HEAD), version, info, events (streamed, filtered). */
import {arch, platform, release} from 'node:os'
import {parseDockerTime} from '../../cli/docker-time.js'
import {parseFilterArgs} from '../../cli/filter-args.js'
import {events as readEvents} from '../../engine/events.js'
import {type ApiCall, ApiError, queryFilters, sendJson} from '../http.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

export const API_VERSION = '1.41'
export const MIN_API_VERSION = '1.12'

const GO_ARCH: Record<string, string> = {x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64'}

export function versionDocument(version: string) {
  return {
    Platform: {Name: 'ctr-ts'},
    Components: [{Name: 'Engine', Version: version, Details: {ApiVersion: API_VERSION, MinAPIVersion: MIN_API_VERSION, Os: platform(), Arch: GO_ARCH[arch()] ?? arch(), KernelVersion: release()}}],
    Version: version,
    ApiVersion: API_VERSION,
    MinAPIVersion: MIN_API_VERSION,
    GitCommit: '',
    GoVersion: `node ${process.version}`,
    Os: platform(),
    Arch: GO_ARCH[arch()] ?? arch(),
    KernelVersion: release(),
    BuildTime: '',
  }
}

function ping(call: ApiCall): void {
  call.res.writeHead(200, {'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-cache, no-store, must-revalidate', Pragma: 'no-cache', 'Content-Length': 2})
  call.res.end(call.method === 'HEAD' ? undefined : 'OK')
}

async function info(call: ApiCall, deps: ApiDeps): Promise<void> {
  const {systemInfo} = await import('../../system/info.js')
  const {dockerInfo} = await import('../../system/docker-info.js')
  const doc = dockerInfo(await systemInfo(deps.ctx, deps.version)) as Record<string, unknown>
  sendJson(call.res, 200, {...doc, ServerVersion: deps.version, OSType: 'linux', Architecture: GO_ARCH[arch()] ?? arch()})
}

/** docker's since/until: Unix seconds (fractions allowed), RFC 3339, or a duration back from now. */
function timeParam(call: ApiCall, name: string, now: number): number | undefined {
  const v = call.query.get(name)
  if (v === null || v === '') return undefined
  try {
    return parseDockerTime(v, now, name)
  } catch (err) {
    throw new ApiError(400, (err as Error).message)
  }
}

async function events(call: ApiCall, deps: ApiDeps): Promise<void> {
  const now = Date.now()
  const sinceMs = timeParam(call, 'since', now) ?? now
  const untilMs = timeParam(call, 'until', now)
  let filters: Record<string, string[]>
  try {
    filters = parseFilterArgs(queryFilters(call.query), ['type', 'event', 'container', 'image', 'label'])
  } catch (err) {
    throw new ApiError(400, (err as Error).message)
  }
  const abort = new AbortController()
  call.res.writeHead(200, {'Content-Type': 'application/json'})
  call.res.flushHeaders()
  call.res.on('close', () => abort.abort())
  await readEvents(deps.ctx, {
    sinceMs,
    untilMs,
    filters,
    follow: untilMs === undefined || untilMs > now,
    signal: abort.signal,
    onEvent: (e) => {
      if (!call.res.destroyed) call.res.write(`${JSON.stringify(e)}\n`)
    },
  })
  call.res.end()
}

export function register(router: Router, deps: ApiDeps): void {
  router.get('/_ping', ping)
  router.head('/_ping', ping)
  router.get('/version', (call) => sendJson(call.res, 200, versionDocument(deps.version)))
  router.get('/info', (call) => info(call, deps))
  router.get('/events', (call) => events(call, deps))
}
