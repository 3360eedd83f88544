/**
 * The model as the compose document `docker compose config` prints: the resolved project in
 * long syntax, names and attributes sorted, empty values left out, durations as Go durations
 * ("1m30s"), the default network and the real names of networks and volumes.
 */
import {stringify} from 'yaml'
import type {ComposeProject, Healthcheck, ServiceConfig} from './types.js'

type Doc = Record<string, unknown>

/** ms → Go's Duration.String(): 90000 → "1m30s", 500 → "500ms", 0 → "0s". */
export function goDuration(ms: number): string {
  if (ms === 0) return '0s'
  if (ms < 1000) return `${Number(ms.toFixed(6))}ms`
  let rest = ms / 1000
  const h = Math.floor(rest / 3600)
  rest -= h * 3600
  const m = Math.floor(rest / 60)
  rest -= m * 60
  const s = Number(rest.toFixed(9))
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${s}s`
}

const isEmpty = (v: unknown) =>
  v === undefined || (Array.isArray(v) && v.length === 0) || (v !== null && typeof v === 'object' && !Array.isArray(v) && Object.keys(v).length === 0)

/** Drops undefined, empty lists and maps and `false`, sorts keys (as Go's map marshalling does). */
function compact(o: Doc, keepFalse: readonly string[] = []): Doc {
  const out: Doc = {}
  for (const k of Object.keys(o).sort()) {
    const v = o[k]
    if (isEmpty(v) || (v === false && !keepFalse.includes(k))) continue
    out[k] = v
  }
  return out
}

function healthDoc(h: Healthcheck): Doc {
  const out: Doc = {}
  if (h.test) out.test = h.test
  for (const k of ['timeout', 'interval', 'retries', 'start_period', 'start_interval'] as const) {
    const v = h[k]
    if (v !== undefined) out[k] = k === 'retries' ? v : goDuration(v)
  }
  if (h.disable) out.disable = true
  return out
}

function serviceDoc(s: ServiceConfig): Doc {
  const {name: _name, extras, scale, healthcheck, stop_grace_period, networks, depends_on, ports, volumes, deploy, build, logging, ...rest} = s
  const doc: Doc = {...extras, ...rest}
  if (s.command === null) delete doc.command
  if (s.entrypoint === null) delete doc.entrypoint
  // `command: []` and `entrypoint: []` mean something (an empty override): kept.
  if (s.command?.length === 0) doc.command = []
  if (healthcheck) doc.healthcheck = healthDoc(healthcheck)
  if (stop_grace_period !== undefined) doc.stop_grace_period = goDuration(stop_grace_period)
  doc.networks = Object.fromEntries(Object.entries(networks).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, n]) => {
    const v = compact({...n})
    return [k, Object.keys(v).length ? v : null]
  }))
  doc.depends_on = Object.fromEntries(Object.entries(depends_on).map(([k, d]) => [k, {condition: d.condition, ...(d.restart ? {restart: true} : {}), required: d.required}]))
  doc.ports = ports.map((p) => ({mode: p.mode, ...(p.host_ip ? {host_ip: p.host_ip} : {}), target: p.target, ...(p.published ? {published: p.published} : {}), protocol: p.protocol, ...(p.name ? {name: p.name} : {}), ...(p.app_protocol ? {app_protocol: p.app_protocol} : {})}))
  doc.volumes = volumes.map((v) => {
    const out: Doc = {type: v.type}
    if (v.source !== undefined) out.source = v.source
    out.target = v.target
    if (v.read_only) out.read_only = true
    if (v.consistency) out.consistency = v.consistency
    if (v.bind) out.bind = compact({...v.bind}, ['create_host_path'])
    if (v.volume) out.volume = compact({...v.volume})
    else if (v.type === 'volume') out.volume = {}
    if (v.tmpfs) out.tmpfs = compact({...v.tmpfs})
    return out
  })
  if (build) doc.build = compact({...build})
  if (logging) doc.logging = compact({...logging})
  if (deploy) {
    const {extras: dx, ...d} = deploy
    doc.deploy = compact({...dx, ...d})
  }
  if (scale !== 1 && deploy?.replicas === undefined) doc.scale = scale
  doc.environment = s.environment
  for (const k of ['secrets', 'configs'] as const) doc[k] = s[k].map((o) => compact({...o}))
  return compact(doc, ['init'])
}

/** The resolved project as a compose document (what `config` prints as YAML or JSON). */
export function projectDocument(p: ComposeProject): Doc {
  const sorted = <T>(r: Record<string, T>, f: (v: T) => Doc) => Object.fromEntries(Object.keys(r).sort().map((k) => [k, f(r[k]!)]))
  const doc: Doc = {name: p.name, services: sorted(p.services, serviceDoc)}
  const networks = sorted(p.networks, (n) => compact({...n, ipam: n.ipam ? compact({...n.ipam}) : undefined}))
  const volumes = sorted(p.volumes, (v) => compact({...v}))
  const secrets = sorted(p.secrets, (v) => compact({...v}))
  const configs = sorted(p.configs, (v) => compact({...v}))
  if (!isEmpty(networks)) doc.networks = networks
  if (!isEmpty(volumes)) doc.volumes = volumes
  if (!isEmpty(secrets)) doc.secrets = secrets
  if (!isEmpty(configs)) doc.configs = configs
  return doc
}

export function projectYaml(p: ComposeProject): string {
  return stringify(projectDocument(p), {lineWidth: 0, aliasDuplicateObjects: false, nullStr: 'null'})
}

export function projectJson(p: ComposeProject): string {
  return `${JSON.stringify(projectDocument(p), null, 4)}\n`
}
