/**
 * docker's `--filter key=value` rules, as pure helpers every listing and prune command shares
 * (docker/api/types/filters):
 * - each `--filter` is `key=value` (`label=k=v` keeps everything after the first `=` as value);
 *   `key!=value` is accepted for the keys that allow negation (`label!` on prune);
 * - the same key given several times matches when ANY of its values matches (OR), except
 *   `label`, where every value must match (docker's MatchKVList);
 * - different keys must all match (AND);
 * - an unknown key is an error (`invalid filter 'nope'`), as is a value a key does not accept.
 */
import {UsageError} from '../errors.js'

/** Parsed filters: key → its values, in the order given. */
export type Filters = ReadonlyMap<string, readonly string[]>

/**
 * Parses the `--filter` values of a command. `allowed` lists the keys the command knows (an
 * unknown one is a UsageError); a key may end in `!` (`label!`) when written `key!=value`.
 */
export function parseFilters(args: readonly string[] | undefined, allowed: readonly string[]): Filters {
  const out = new Map<string, string[]>()
  for (const arg of args ?? []) {
    const eq = arg.indexOf('=')
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value): ${arg}`)
    let key = arg.slice(0, eq).trim().toLowerCase()
    const value = arg.slice(eq + 1)
    if (key.endsWith('!')) key = `${key.slice(0, -1).trim()}!`
    if (!allowed.includes(key)) throw new UsageError(`invalid filter '${key.replace(/!$/, '')}'`)
    const values = out.get(key) ?? []
    values.push(value)
    out.set(key, values)
  }
  return out
}

/** The values given for a key (empty when the key was not given). */
export function filterValues(filters: Filters, key: string): readonly string[] {
  return filters.get(key) ?? []
}

/** True when the key was not given, or when `match` holds for one of its values (OR). */
export function matchAny(filters: Filters, key: string, match: (value: string) => boolean): boolean {
  const values = filters.get(key)
  return !values || values.length === 0 || values.some(match)
}

/**
 * docker's label filter: every `label=` value (`k` or `k=v`) must match the labels (AND); with
 * `negate` (the `label!=` filter of prune) an item matches when none of them does.
 */
export function labelsMatch(values: readonly string[] | undefined, labels: Readonly<Record<string, string>> | undefined, negate = false): boolean {
  if (!values || values.length === 0) return true
  const l = labels ?? {}
  const one = (v: string) => {
    const eq = v.indexOf('=')
    if (eq === -1) return Object.hasOwn(l, v)
    const k = v.slice(0, eq)
    return Object.hasOwn(l, k) && l[k] === v.slice(eq + 1)
  }
  return negate ? !values.some(one) : values.every(one)
}

/** A `true`/`false` filter value (`dangling=true`); `1`/`0` too, as Go's ParseBool. */
export function parseBoolFilter(key: string, value: string): boolean {
  const v = value.toLowerCase()
  if (['1', 't', 'true'].includes(v)) return true
  if (['0', 'f', 'false'].includes(v)) return false
  throw new UsageError(`invalid filter '${key}=${value}'`)
}

const DURATION_UNITS: Record<string, number> = {ns: 1e-6, us: 1e-3, µs: 1e-3, μs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** Go's time.ParseDuration in milliseconds (`1h30m`, `-5m`, `300ms`, `0`); undefined when it is not one. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+$/.exec(s)
  if (s === '0' || s === '+0' || s === '-0') return 0
  if (!m) return undefined
  let total = 0
  for (const part of s.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)/g)) {
    total += Number(part[1]) * DURATION_UNITS[part[2]!]!
  }
  return m[1] === '-' ? -total : total
}

/**
 * docker's GetTimestamp (--since, --until, `until=`): a Go duration counts back from `now`
 * (`10m` is ten minutes ago), a unix time (`1700000000`, `1700000000.5`), or an RFC 3339 /
 * ISO 8601 date in any of the forms docker takes (`2024-01-02`, `2024-01-02T15:04:05`,
 * `2024-01-02T15:04:05Z`, `...+01:00`, with fractions); a date without a zone is local time.
 * Returns milliseconds since the epoch.
 */
export function parseTimestamp(value: string, now: number = Date.now()): number {
  const v = value.trim()
  const dur = v === '0' ? undefined : parseGoDuration(v)
  if (dur !== undefined) return now - dur
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [sec, frac = ''] = v.split('.')
    return Number(sec) * 1000 + Number(`0.${frac || '0'}`) * 1000
  }
  const date = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2})(?::(\d{2})(?::(\d{2})(\.\d+)?)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(v)
  if (date) {
    const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone] = date
    const base = `${y}-${mo}-${d}T${h}:${mi}:${s}${frac ? `.${frac.slice(1, 4).padEnd(3, '0')}` : ''}`
    const t = Date.parse(zone ? `${base}${zone.toUpperCase() === 'Z' ? 'Z' : zone.replace(/^([+-]\d{2})(\d{2})$/, '$1:$2')}` : base)
    if (!Number.isNaN(t)) return t
  }
  throw new UsageError(`failed to parse value as time or duration: "${value}"`)
}

/**
 * docker's reference filter on images: a pattern (path.Match glob, `*` stops at `/`) matched
 * against the familiar name (`alpine`, `quay.io/x/y`) and against `name:tag`; a pattern with a
 * tag part matches name and tag.
 */
export function referenceMatches(pattern: string, familiarName: string, tag: string | undefined): boolean {
  const re = globRegExp(pattern)
  if (re.test(familiarName)) return true
  if (tag !== undefined && re.test(`${familiarName}:${tag}`)) return true
  // docker also tries the fully qualified form (docker.io/library/alpine)
  const full = familiarName.includes('/') ? (familiarName.split('/')[0]!.match(/[.:]|^localhost$/) ? familiarName : `docker.io/${familiarName}`) : `docker.io/library/${familiarName}`
  return re.test(full) || (tag !== undefined && re.test(`${full}:${tag}`))
}

/** Go's path.Match as a regular expression: `*` and `?` do not cross `/`, `[...]` classes. */
export function globRegExp(pattern: string): RegExp {
  let re = ''
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '*') re += '[^/]*'
    else if (c === '?') re += '[^/]'
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 1)
      if (end === -1) throw new UsageError(`invalid reference filter: ${pattern}: syntax error in pattern`)
      let cls = pattern.slice(i + 1, end)
      if (cls.startsWith('^')) cls = `\\^${cls.slice(1)}`
      if (cls.startsWith('!')) cls = `^${cls.slice(1)}`
      re += `[${cls.replace(/\\/g, '\\\\')}]`
      i = end
    } else if (c === '\\' && i + 1 < pattern.length) re += `\\${pattern[++i]}`
    else re += c.replace(/[.+^${}()|\]\\/]/g, '\\$&')
  }
  return new RegExp(`^${re}$`)
}

/** The filters docker's prune commands take. */
export const PRUNE_FILTER_KEYS = ['until', 'label', 'label!'] as const

/** Parses prune `--filter` values, checking `until` timestamps at once. */
export function parsePruneFilters(args: readonly string[] | undefined, now: number = Date.now()): Filters {
  const f = parseFilters(args, PRUNE_FILTER_KEYS)
  for (const v of filterValues(f, 'until')) parseTimestamp(v, now)
  return f
}

/**
 * docker's prune filters on one object: created before every `until`, carrying every `label`,
 * carrying none of the `label!` ones. An object whose creation time is unknown is kept when
 * `until` is given.
 */
export function pruneMatches(f: Filters, created: string | undefined, labels: Readonly<Record<string, string>> | undefined, now: number = Date.now()): boolean {
  const until = filterValues(f, 'until')
  if (until.length > 0) {
    const t = created ? Date.parse(created) : NaN
    if (Number.isNaN(t) || !until.every((u) => t < parseTimestamp(u, now))) return false
  }
  if (!labelsMatch(f.get('label'), labels)) return false
  if (!labelsMatch(f.get('label!'), labels, true)) return false
  return true
}
