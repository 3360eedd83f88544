/**
 * `ps --filter`: docker's container filters on what a container record and its status hold
 * (daemon/list.go). Pure: the values that need the store (ancestor images, the containers named
 * by before/since) are resolved by the caller and passed in `resolved`.
 */
import {filterValues, type Filters, labelsMatch, matchAny, parseFilters} from '../format/filters.js'
import {UsageError} from '../errors.js'
import type {ContainerRecord} from './record.js'
import type {ContainerStatus} from './status.js'

export const PS_FILTER_KEYS = ['id', 'name', 'label', 'status', 'ancestor', 'exited', 'before', 'since', 'network', 'volume'] as const

const STATUSES = ['created', 'restarting', 'running', 'removing', 'paused', 'exited', 'dead']

/** Parses and checks `ps --filter` values (an unknown key or status, a non-numeric exited). */
export function parsePsFilters(args: readonly string[] | undefined): Filters {
  const f = parseFilters(args, PS_FILTER_KEYS)
  for (const s of filterValues(f, 'status')) if (!STATUSES.includes(s)) throw new UsageError(`invalid filter 'status=${s}'`)
  for (const e of filterValues(f, 'exited')) if (!/^-?\d+$/.test(e)) throw new UsageError(`invalid filter 'exited=${e}'`)
  return f
}

/** docker's filters.Match: the value equals the text, or is a regular expression found in it. */
export function regexpMatch(pattern: string, text: string): boolean {
  if (pattern === text) return true
  try {
    return new RegExp(pattern).test(text)
  } catch {
    return false
  }
}

export interface ResolvedPsFilters {
  /** Image ids the ancestor values name (an image and its tags). */
  ancestorIds: ReadonlySet<string>
  /** Creation times of the containers before= / since= name. */
  before?: string
  since?: string
}

/** The status word docker's status filter compares (`exited` for a stopped task). */
export function stateWord(s: ContainerStatus): string {
  return s.status
}

/** Whether one container passes every filter given (different keys AND, same key OR). */
export function containerMatches(f: Filters, rec: ContainerRecord, s: ContainerStatus, resolved: ResolvedPsFilters): boolean {
  if (!matchAny(f, 'id', (v) => regexpMatch(v, rec.id))) return false
  if (!matchAny(f, 'name', (v) => regexpMatch(v, rec.name) || regexpMatch(v, `/${rec.name}`))) return false
  if (!labelsMatch(f.get('label'), rec.labels)) return false
  if (!matchAny(f, 'status', (v) => v === stateWord(s))) return false
  if (!matchAny(f, 'exited', (v) => s.status === 'exited' && s.exit !== undefined && s.exit.exitCode === Number(v))) return false
  if (!matchAny(f, 'ancestor', (v) => resolved.ancestorIds.has(rec.image) || v === rec.imageRef || v === rec.image || rec.image.replace(/^sha256:/, '').startsWith(v))) return false
  if (!matchAny(f, 'network', (v) => v === rec.network)) return false
  // ctr-ts containers have no volumes yet: a volume filter matches none of them.
  if (!matchAny(f, 'volume', () => false)) return false
  if (resolved.before !== undefined && !(rec.created < resolved.before)) return false
  if (resolved.since !== undefined && !(rec.created > resolved.since)) return false
  return true
}
