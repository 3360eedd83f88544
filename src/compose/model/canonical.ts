/**
 * One file's document (parsed, interpolated, validated) brought to one shape per attribute
 * before files are merged, so that a list form in one file and a map form in the next merge as
 * docker compose merges them: environment/labels/args/sysctls/annotations as maps, depends_on
 * and service networks as maps, ports/volumes/secrets/configs in long syntax, env_file as
 * objects, build as an object, ulimits as {soft, hard}. Relative paths (binds, build contexts,
 * env_file) are made absolute against the project directory, as compose resolves every file's
 * paths against it. Values stay untyped here; normalize.ts makes the typed model.
 */
import {homedir} from 'node:os'
import {isAbsolute, resolve} from 'node:path'
import {ComposeFileError} from '../../errors.js'
import {Tagged} from './parse.js'

export type Raw = Record<string, unknown>

export interface CanonicalContext {
  /** Where relative paths resolve. */
  projectDir: string
  /** The file's name in errors. */
  file: string
  /** The user's home for `~`. */
  home?: string
}

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tagged)

/** Applies `f` to a value, or to the value inside a `!reset`/`!override` tag (kept around it). */
function under(v: unknown, f: (inner: unknown) => unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? v : new Tagged(v.tag, f(v.value))
  return f(v)
}

/** A scalar as compose turns it into a string (numbers and booleans as YAML wrote them). */
export function scalarString(v: unknown): string {
  if (typeof v === 'string') return v
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v)
  return v === null || v === undefined ? '' : JSON.stringify(v)
}

/**
 * `[K=V, K]` or `{K: V}` → {K: "V"}; `K` alone (list) and `K:` (map, null) → null when
 * `allowNull` (environment, build args: the caller decides what a value-less key means), else "".
 */
export function listOrDict(v: unknown, ctx: CanonicalContext, path: string[], allowNull = true): Record<string, string | null> {
  const out: Record<string, string | null> = {}
  if (v === null || v === undefined) return out
  if (Array.isArray(v)) {
    v.forEach((item, i) => {
      const s = scalarString(item)
      const eq = s.indexOf('=')
      const key = eq < 0 ? s : s.slice(0, eq)
      if (key === '') throw new ComposeFileError(ctx.file, [...path, `[${i}]`], `"${s}" has no key`)
      out[key] = eq < 0 ? (allowNull ? null : '') : s.slice(eq + 1)
    })
    return out
  }
  if (isMap(v)) {
    for (const [k, val] of Object.entries(v)) out[k] = val === null || val === undefined ? (allowNull ? null : '') : scalarString(val)
    return out
  }
  throw new ComposeFileError(ctx.file, path, 'must be a list or a mapping')
}

/** `~` and relative paths → absolute, against the project directory. */
export function resolvePath(p: string, ctx: CanonicalContext): string {
  if (p === '~' || p.startsWith('~/')) return resolve(ctx.home ?? homedir(), p.slice(2))
  return isAbsolute(p) ? p : resolve(ctx.projectDir, p)
}

/** A build context that is not a local directory (git URL, http tarball, docker-image://). */
function isRemoteContext(s: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(s) || s.startsWith('git@') || /^github\.com\//.test(s)
}

// ---------------------------------------------------------------------------------------------
// ports

/** Short syntax `[[IP:]HOST[-HOST]:]CONTAINER[-CONTAINER][/PROTO]` (or a bare number) → long entries. */
export function parsePortShort(spec: string, ctx: CanonicalContext, path: string[]): Raw[] {
  const fail = (why: string): never => {
    throw new ComposeFileError(ctx.file, path, `invalid port "${spec}": ${why}`)
  }
  let rest = spec.trim()
  let protocol = 'tcp'
  const slash = rest.lastIndexOf('/')
  if (slash >= 0) {
    protocol = rest.slice(slash + 1).toLowerCase()
    rest = rest.slice(0, slash)
    if (!['tcp', 'udp', 'sctp'].includes(protocol)) fail(`unknown protocol "${protocol}"`)
  }
  let hostIp: string | undefined
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']')
    if (close < 0) fail('missing "]" after the IPv6 address')
    hostIp = rest.slice(1, close)
    rest = rest.slice(close + 1)
    if (!rest.startsWith(':')) fail('an IPv6 address needs a port after it')
    rest = rest.slice(1)
  }
  const parts = rest.split(':')
  let published: string | undefined
  let container: string
  if (parts.length === 1) container = parts[0]!
  else if (parts.length === 2) [published, container] = parts as [string, string]
  else if (parts.length === 3 && hostIp === undefined) [hostIp, published, container] = parts as [string, string, string]
  else return fail('too many colons')
  if (published === '') published = undefined
  const range = (s: string, what: string): [number, number] => {
    const m = /^(\d+)(?:-(\d+))?$/.exec(s)
    if (!m) return fail(`${what} "${s}" is not a port number or range`)
    const a = Number(m[1])
    const b = m[2] === undefined ? a : Number(m[2])
    if (a < 0 || b > 65535 || a > b || (what === 'container port' && a === 0)) return fail(`${what} "${s}" is out of range`)
    return [a, b]
  }
  const [c0, c1] = range(container, 'container port')
  const count = c1 - c0 + 1
  const base: Raw = {mode: 'ingress', protocol}
  if (hostIp !== undefined && hostIp !== '') base.host_ip = hostIp
  if (published === undefined) return Array.from({length: count}, (_, i) => ({...base, target: c0 + i}))
  const [h0, h1] = range(published, 'host port')
  if (count === 1) return [{...base, target: c0, published: h0 === h1 ? String(h0) : `${h0}-${h1}`}]
  if (h1 - h0 + 1 !== count) fail('the host and container port ranges have different lengths')
  return Array.from({length: count}, (_, i) => ({...base, target: c0 + i, published: String(h0 + i)}))
}

function canonicalPorts(v: unknown, ctx: CanonicalContext, path: string[]): Raw[] {
  if (!Array.isArray(v)) return []
  return v.flatMap((p, i) => {
    const at = [...path, `[${i}]`]
    if (typeof p === 'number') return parsePortShort(String(p), ctx, at)
    if (typeof p === 'string') return parsePortShort(p, ctx, at)
    if (isMap(p)) {
      const out: Raw = {mode: 'ingress', protocol: 'tcp', ...p}
      if (out.published !== undefined && out.published !== null) out.published = scalarString(out.published)
      if (out.published === '' || out.published === null) delete out.published
      if (typeof out.target === 'string') out.target = toPort(out.target, ctx, [...at, 'target'])
      return [out]
    }
    throw new ComposeFileError(ctx.file, at, 'must be a string, a number or a mapping')
  })
}

function toPort(s: string, ctx: CanonicalContext, path: string[]): number {
  if (!/^\d+$/.test(s.trim()) || Number(s) > 65535) throw new ComposeFileError(ctx.file, path, `invalid port "${s}"`)
  return Number(s)
}

/** The merge key of a port: {ip, target, published, protocol}. */
export function portKey(p: Raw): string {
  return [p.host_ip ?? '', p.target, p.published ?? '', p.protocol ?? 'tcp'].join('|')
}

// ---------------------------------------------------------------------------------------------
// volumes

const PROPAGATIONS = new Set(['shared', 'rshared', 'slave', 'rslave', 'private', 'rprivate'])

/** Short syntax `[SOURCE:]TARGET[:MODE]` → long syntax. */
export function parseVolumeShort(spec: string, ctx: CanonicalContext, path: string[]): Raw {
  const fail = (why: string): never => {
    throw new ComposeFileError(ctx.file, path, `invalid volume "${spec}": ${why}`)
  }
  const parts = spec.split(':')
  let source: string | undefined
  let target: string
  let mode: string | undefined
  if (parts.length === 1) target = parts[0]!
  else if (parts.length === 2) {
    // `/data:ro` is not a thing: two parts are SOURCE:TARGET.
    ;[source, target] = parts as [string, string]
  } else if (parts.length === 3) [source, target, mode] = parts as [string, string, string]
  else return fail('too many colons')
  if (target === '') fail('empty container path')
  if (!target.startsWith('/')) fail(`the container path "${target}" must be absolute`)
  const out: Raw = {target}
  const options = mode ? mode.split(',') : []
  const isPath = source !== undefined && (source.startsWith('/') || source.startsWith('.') || source.startsWith('~'))
  if (source === undefined || source === '') out.type = 'volume'
  else if (isPath) {
    out.type = 'bind'
    out.source = resolvePath(source, ctx)
    out.bind = {create_host_path: true}
  } else {
    out.type = 'volume'
    out.source = source
  }
  for (const o of options) {
    if (o === 'ro') out.read_only = true
    else if (o === 'rw') out.read_only = false
    else if (o === 'nocopy') {
      if (out.type !== 'volume') fail('"nocopy" applies to volumes only')
      out.volume = {...((out.volume as Raw | undefined) ?? {}), nocopy: true}
    } else if (o === 'z' || o === 'Z') {
      if (out.type !== 'bind') fail(`"${o}" applies to bind mounts only`)
      out.bind = {...(out.bind as Raw), selinux: o}
    } else if (PROPAGATIONS.has(o)) {
      if (out.type !== 'bind') fail(`"${o}" applies to bind mounts only`)
      out.bind = {...(out.bind as Raw), propagation: o}
    } else if (o === 'cached' || o === 'delegated' || o === 'consistent') out.consistency = o
    else if (o !== '') fail(`unknown option "${o}"`)
  }
  return out
}

function canonicalVolumes(v: unknown, ctx: CanonicalContext, path: string[]): Raw[] {
  if (!Array.isArray(v)) return []
  return v.map((item, i) => {
    const at = [...path, `[${i}]`]
    if (typeof item === 'string') return parseVolumeShort(item, ctx, at)
    if (!isMap(item)) throw new ComposeFileError(ctx.file, at, 'must be a string or a mapping')
    const out: Raw = {...item}
    if (out.type === 'bind' && typeof out.source === 'string') out.source = resolvePath(out.source, ctx)
    if (out.type === 'volume' && (out.source === '' || out.source === null)) delete out.source
    return out
  })
}

// ---------------------------------------------------------------------------------------------
// the rest of a service

function canonicalDependsOn(v: unknown): Raw {
  const out: Raw = {}
  if (Array.isArray(v)) {
    for (const name of v) out[scalarString(name)] = {condition: 'service_started', required: true}
  } else if (isMap(v)) {
    for (const [name, d] of Object.entries(v)) out[name] = {condition: 'service_started', required: true, ...(isMap(d) ? d : {})}
  }
  return out
}

function canonicalServiceNetworks(v: unknown): Raw {
  const out: Raw = {}
  if (Array.isArray(v)) for (const n of v) out[scalarString(n)] = null
  else if (isMap(v)) for (const [n, cfg] of Object.entries(v)) out[n] = isMap(cfg) ? {...cfg} : null
  return out
}

function canonicalEnvFiles(v: unknown, ctx: CanonicalContext): Raw[] {
  const items = v === null || v === undefined ? [] : Array.isArray(v) ? v : [v]
  return items.map((e) => {
    if (typeof e === 'string') return {path: resolvePath(e, ctx), required: true}
    const m = isMap(e) ? e : {}
    return {...m, path: resolvePath(scalarString(m.path), ctx), required: m.required ?? true}
  })
}

function canonicalFileObjects(v: unknown): Raw[] {
  if (!Array.isArray(v)) return []
  return v.map((e) => (typeof e === 'string' ? {source: e} : {...(isMap(e) ? e : {})}))
}

/** `["host:ip"]`, `["host=ip"]` or `{host: ip | [ips]}` → ["host:ip", ...]. */
export function canonicalExtraHosts(v: unknown): string[] {
  const out: string[] = []
  if (Array.isArray(v)) {
    for (const e of v) {
      const s = scalarString(e)
      const eq = s.indexOf('=')
      out.push(eq >= 0 ? `${s.slice(0, eq)}:${s.slice(eq + 1)}` : s)
    }
  } else if (isMap(v)) {
    for (const [host, ip] of Object.entries(v)) for (const one of Array.isArray(ip) ? ip : [ip]) out.push(`${host}:${scalarString(one)}`)
  }
  return out
}

function canonicalBuild(v: unknown, ctx: CanonicalContext, path: string[]): Raw {
  const b: Raw = typeof v === 'string' ? {context: v} : isMap(v) ? {...v} : {}
  const context = typeof b.context === 'string' && b.context !== '' ? b.context : '.'
  b.context = isRemoteContext(context) ? context : resolvePath(context, ctx)
  if (b.args !== undefined) b.args = under(b.args, (x) => listOrDict(x, ctx, [...path, 'args']))
  if (b.labels !== undefined) b.labels = under(b.labels, (x) => listOrDict(x, ctx, [...path, 'labels'], false))
  if (b.extra_hosts !== undefined) b.extra_hosts = under(b.extra_hosts, canonicalExtraHosts)
  return b
}

function canonicalUlimits(v: unknown): Raw {
  const out: Raw = {}
  if (!isMap(v)) return out
  for (const [name, l] of Object.entries(v)) out[name] = isMap(l) ? {...l} : {soft: l, hard: l}
  return out
}

/** One service of one file, in canonical shape. */
export function canonicalService(name: string, svc: unknown, ctx: CanonicalContext): Raw {
  const path = ['services', name]
  if (!isMap(svc)) return {}
  const out: Raw = {}
  for (const [key, value] of Object.entries(svc)) {
    const at = [...path, key]
    const f = (x: unknown): unknown => {
      switch (key) {
        case 'environment':
          return listOrDict(x, ctx, at)
        case 'labels':
        case 'annotations':
        case 'sysctls':
          return listOrDict(x, ctx, at, false)
        case 'depends_on':
          return canonicalDependsOn(x)
        case 'networks':
          return canonicalServiceNetworks(x)
        case 'ports':
          return canonicalPorts(x, ctx, at)
        case 'volumes':
          return canonicalVolumes(x, ctx, at)
        case 'env_file':
          return canonicalEnvFiles(x, ctx)
        case 'label_file':
          return (Array.isArray(x) ? x : [x]).map((f) => resolvePath(scalarString(f), ctx))
        case 'secrets':
        case 'configs':
          return canonicalFileObjects(x)
        case 'extra_hosts':
          return canonicalExtraHosts(x)
        case 'build':
          return canonicalBuild(x, ctx, at)
        case 'ulimits':
          return canonicalUlimits(x)
        case 'dns':
        case 'dns_search':
        case 'tmpfs':
          return typeof x === 'string' ? [x] : x
        case 'expose':
          return Array.isArray(x) ? x.map(scalarString) : x
        case 'deploy':
          return isMap(x) && x.labels !== undefined ? {...x, labels: listOrDict(x.labels, ctx, [...at, 'labels'], false)} : x
        case 'logging':
          return isMap(x) && x.options !== undefined ? {...x, options: listOrDict(x.options, ctx, [...at, 'options'], false)} : x
        default:
          return x
      }
    }
    out[key] = under(value, f)
  }
  return out
}

/** A top-level network, volume, secret or config entry: null → {}, legacy `external: {name}` → name + external. */
function canonicalResource(v: unknown, ctx: CanonicalContext, path: string[]): Raw {
  const out: Raw = isMap(v) ? {...v} : {}
  if (isMap(out.external)) {
    if (typeof out.external.name === 'string' && out.name === undefined) out.name = out.external.name
    out.external = true
  }
  if (out.labels !== undefined) out.labels = under(out.labels, (x) => listOrDict(x, ctx, [...path, 'labels'], false))
  if (out.driver_opts !== undefined && isMap(out.driver_opts)) out.driver_opts = Object.fromEntries(Object.entries(out.driver_opts).map(([k, x]) => [k, scalarString(x)]))
  if (typeof out.file === 'string') out.file = resolvePath(out.file, ctx)
  return out
}

/** A whole file's document in canonical shape. */
export function canonicalDocument(doc: Raw, ctx: CanonicalContext): Raw {
  const out: Raw = {...doc}
  if (isMap(doc.services)) {
    out.services = Object.fromEntries(Object.entries(doc.services).map(([name, svc]) => [name, under(svc, (x) => canonicalService(name, x, ctx))]))
  }
  for (const section of ['networks', 'volumes', 'secrets', 'configs'] as const) {
    const s = doc[section]
    if (isMap(s)) out[section] = Object.fromEntries(Object.entries(s).map(([k, v]) => [k, under(v, (x) => canonicalResource(x, ctx, [section, k]))]))
  }
  return out
}
