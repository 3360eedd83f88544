import {isAbsolute, normalize} from 'node:path'
import {UsageError} from '../errors.js'
import {checkVolumeName, VOLUME_DRIVER} from '../store/volumes.js'
import {csvFields} from '../spec/run-flags.js'

/**
 * Pure parsing for volumes: which `-v` values are volumes, `--mount type=volume,...`,
 * `--volumes-from`, the local driver's `-o` options, and the `--filter` values of `volume ls`
 * and `volume prune`. Every function throws a UsageError naming the bad value.
 */

/** A volume a container asks for (named, or anonymous when `name` is absent). */
export interface VolumeRequest {
  name?: string
  destination: string
  readOnly: boolean
  /** Do not seed an empty volume with the image's content (`nocopy`, `volume-nocopy`). */
  noCopy: boolean
  /** Labels for a volume created by this request (`--mount volume-label=`). */
  labels?: Record<string, string>
  /** Driver options for a volume created by this request (`--mount volume-opt=`). */
  options?: Record<string, string>
}

/** A `-v` value: a bind mount (left to spec/flags.ts parseVolume) or a volume. */
export type VolumeFlag = {kind: 'bind'; spec: string} | ({kind: 'volume'} & VolumeRequest)

function destinationOf(what: string, path: string): string {
  if (!isAbsolute(path)) throw new UsageError(`invalid volume "${what}": container path "${path}" must be absolute`)
  const n = normalize(path).replace(/\/+$/, '')
  if (n === '') throw new UsageError(`invalid volume "${what}": the container path cannot be "/"`)
  return n
}

/**
 * Classifies `-v` like docker: `/path` is an anonymous volume, `NAME:/path[:opts]` a named one
 * (opts: ro, rw, nocopy, z, Z), `/host:/path[:opts]` a bind mount.
 */
export function parseVolumeFlag(spec: string): VolumeFlag {
  const parts = spec.split(':')
  if (spec === '' || parts.some((p) => p === '')) throw new UsageError(`invalid volume specification "${spec}"`)
  if (parts.length === 1) return {kind: 'volume', destination: destinationOf(spec, spec), readOnly: false, noCopy: false}
  if (parts.length > 3) throw new UsageError(`invalid volume specification "${spec}": too many colons`)
  const [source, dest, options] = parts as [string, string, string | undefined]
  if (source.startsWith('/')) return {kind: 'bind', spec}
  if (source.startsWith('.') || source.includes('/')) {
    throw new UsageError(`invalid volume "${spec}": host path "${source}" must be absolute (or a volume name)`)
  }
  checkVolumeName(source)
  let readOnly = false
  let noCopy = false
  let modeSeen = false
  for (const o of options ? options.split(',') : []) {
    if (o === 'ro' || o === 'rw') {
      if (modeSeen) throw new UsageError(`invalid volume "${spec}": ro and rw given more than once`)
      modeSeen = true
      readOnly = o === 'ro'
    } else if (o === 'nocopy') {
      noCopy = true
    } else if (o !== 'z' && o !== 'Z') {
      throw new UsageError(`invalid volume "${spec}": unknown option "${o}" (use ro, rw, nocopy, z or Z)`)
    }
  }
  return {kind: 'volume', name: source, destination: destinationOf(spec, dest), readOnly, noCopy}
}

const TRUE = ['', 'true', '1']
const FALSE = ['false', '0']

function boolOption(what: string, key: string, value: string | undefined): boolean {
  const v = (value ?? '').toLowerCase()
  if (TRUE.includes(v)) return true
  if (FALSE.includes(v)) return false
  throw new UsageError(`invalid --mount "${what}": ${key} takes true or false, not "${value}"`)
}


/**
 * `--mount type=volume,src=NAME,dst=/path[,readonly][,volume-nocopy][,volume-label=K=V]
 * [,volume-opt=K=V][,volume-driver=local]`; without src an anonymous volume.
 */
export function parseMountVolume(text: string): VolumeRequest {
  let type: string | undefined
  let name: string | undefined
  let dest: string | undefined
  let readOnly = false
  let noCopy = false
  const labels: Record<string, string> = {}
  const options: Record<string, string> = {}
  for (const field of csvFields(text)) {
    const eq = field.indexOf('=')
    const key = (eq < 0 ? field : field.slice(0, eq)).trim().toLowerCase()
    const value = eq < 0 ? undefined : field.slice(eq + 1)
    const need = () => {
      if (value === undefined || value === '') throw new UsageError(`invalid --mount "${text}": ${key} needs a value`)
      return value
    }
    switch (key) {
      case 'type':
        type = need()
        break
      case 'source':
      case 'src':
        name = need()
        break
      case 'destination':
      case 'dst':
      case 'target':
        dest = need()
        break
      case 'readonly':
      case 'ro':
        readOnly = boolOption(text, key, value)
        break
      case 'volume-nocopy':
        noCopy = boolOption(text, key, value)
        break
      case 'volume-label': {
        const [k, ...v] = need().split('=')
        labels[k!] = v.join('=')
        break
      }
      case 'volume-opt': {
        const [k, ...v] = need().split('=')
        options[k!] = v.join('=')
        break
      }
      case 'volume-driver':
        if (need() !== VOLUME_DRIVER) throw new UsageError(`invalid --mount "${text}": only the ${VOLUME_DRIVER} volume driver exists`)
        break
      default:
        throw new UsageError(`invalid --mount "${text}": unknown field "${key}"`)
    }
  }
  if (type !== 'volume') throw new UsageError(`invalid --mount "${text}": not type=volume`)
  if (dest === undefined) throw new UsageError(`invalid --mount "${text}": missing dst`)
  if (name !== undefined) checkVolumeName(name)
  return {
    ...(name !== undefined ? {name} : {}),
    destination: destinationOf(text, dest),
    readOnly,
    noCopy,
    ...(Object.keys(labels).length > 0 ? {labels} : {}),
    ...(Object.keys(options).length > 0 ? {options: parseDriverOptions(Object.entries(options).map(([k, v]) => `${k}=${v}`))} : {}),
  }
}

/** `--volumes-from CONTAINER[:ro|rw]`. */
export function parseVolumesFrom(spec: string): {container: string; mode?: 'ro' | 'rw'} {
  const colon = spec.lastIndexOf(':')
  const container = colon < 0 ? spec : spec.slice(0, colon)
  const mode = colon < 0 ? undefined : spec.slice(colon + 1)
  if (container === '') throw new UsageError(`invalid --volumes-from "${spec}": missing container`)
  if (mode !== undefined && mode !== 'ro' && mode !== 'rw') throw new UsageError(`invalid --volumes-from "${spec}": mode must be ro or rw`)
  return {container, ...(mode ? {mode} : {})}
}

const TMPFS_O = /^(size=\d+[kmgKMG%]?|mode=[0-7]{1,4}|uid=\d+|gid=\d+|nr_inodes=\d+[kmgKMG]?|ro|rw|exec|noexec|suid|nosuid|dev|nodev|sync|async|noatime|relatime|strictatime)$/

/**
 * The local driver's options (`volume create -o KEY=VALUE`): `type=tmpfs` with `o=size=..,mode=..`
 * (a tmpfs for each container that mounts it), or `type=none,o=bind,device=/host/path` (a bind
 * mount of a host directory). Other filesystem types (nfs, ext4, ...) need mount(2) on the host,
 * which a rootless user cannot do: refused.
 */
export function parseDriverOptions(opts: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const o of opts) {
    const eq = o.indexOf('=')
    if (eq <= 0) throw new UsageError(`invalid volume option "${o}": use KEY=VALUE (type, device, o)`)
    const key = o.slice(0, eq)
    if (key !== 'type' && key !== 'device' && key !== 'o') throw new UsageError(`invalid volume option "${o}": the local driver knows type, device and o`)
    out[key] = o.slice(eq + 1)
  }
  if (Object.keys(out).length === 0) return out
  const type = out.type ?? ''
  const mountOpts = (out.o ?? '').split(',').filter(Boolean)
  if (type === 'tmpfs') {
    for (const m of mountOpts) if (!TMPFS_O.test(m)) throw new UsageError(`invalid volume option o=${out.o}: "${m}" is not a tmpfs option`)
  } else if (type === 'none' || type === '' || mountOpts.includes('bind')) {
    if (!mountOpts.includes('bind')) throw new UsageError('invalid volume options: without type=tmpfs only o=bind with device=/host/path is supported rootless')
    if (!out.device || !isAbsolute(out.device)) throw new UsageError('invalid volume options: o=bind needs device=/absolute/host/path')
    for (const m of mountOpts) if (!['bind', 'rbind', 'ro', 'rw'].includes(m)) throw new UsageError(`invalid volume option o=${out.o}: "${m}" is not supported with bind`)
  } else {
    throw new UsageError(`invalid volume option type=${type}: a rootless user cannot mount ${type}; use type=tmpfs or type=none,o=bind,device=PATH`)
  }
  return out
}

/** `--label K=V` / `K` values → labels. */
export function parseLabels(list: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {}
  for (const l of list) {
    const eq = l.indexOf('=')
    const key = eq < 0 ? l : l.slice(0, eq)
    if (key === '') throw new UsageError(`invalid label "${l}": no key`)
    out[key] = eq < 0 ? '' : l.slice(eq + 1)
  }
  return out
}

/** What a filter looks at in a volume. */
export interface VolumeFacts {
  name: string
  driver: string
  labels: Record<string, string>
  inUse: boolean
  anonymous: boolean
}

export type VolumeFilters = Map<string, string[]>

/** `--filter KEY=VALUE` values, keys checked against `allowed` (docker's "invalid filter" otherwise). */
export function parseVolumeFilters(list: readonly string[], allowed: readonly string[]): VolumeFilters {
  const out: VolumeFilters = new Map()
  for (const f of list) {
    const eq = f.indexOf('=')
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value): ${f}`)
    const key = f.slice(0, eq).trim()
    const value = f.slice(eq + 1)
    if (!allowed.includes(key)) throw new UsageError(`invalid filter '${key}'`)
    if (key === 'dangling' || key === 'all') {
      if (!['true', 'false', '1', '0'].includes(value.toLowerCase())) throw new UsageError(`invalid filter '${key}=${value}'`)
    }
    out.set(key, [...(out.get(key) ?? []), value])
  }
  return out
}

function labelMatches(labels: Record<string, string>, want: string): boolean {
  const eq = want.indexOf('=')
  if (eq < 0) return want in labels
  return labels[want.slice(0, eq)] === want.slice(eq + 1)
}

function nameMatches(name: string, pattern: string): boolean {
  try {
    return new RegExp(pattern).test(name)
  } catch {
    return name.includes(pattern)
  }
}

const truthy = (v: string) => v.toLowerCase() === 'true' || v === '1'

/**
 * docker's volume filters: `dangling` (not used by any container), `name` (regular expression,
 * any of), `label` (all of: KEY or KEY=VALUE), `label!` (none of), `driver`. For prune, `all`
 * (docker 23+: without it only anonymous volumes are pruned) is the caller's.
 */
export function matchVolume(v: VolumeFacts, filters: VolumeFilters): boolean {
  const dangling = filters.get('dangling')
  if (dangling && !dangling.some((d) => truthy(d) === !v.inUse)) return false
  const names = filters.get('name')
  if (names && !names.some((n) => nameMatches(v.name, n))) return false
  const drivers = filters.get('driver')
  if (drivers && !drivers.includes(v.driver)) return false
  for (const l of filters.get('label') ?? []) if (!labelMatches(v.labels, l)) return false
  for (const l of filters.get('label!') ?? []) if (labelMatches(v.labels, l)) return false
  return true
}
