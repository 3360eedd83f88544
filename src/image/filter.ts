/**
 * `images --filter`: docker's image filters (dangling, label, reference, before, since) on image
 * rows. Pure: labels and the creation times of the images before=/since= name are passed in.
 */
import {UsageError} from '../errors.js'
import {filterValues, type Filters, labelsMatch, matchAny, parseBoolFilter, parseFilters, referenceMatches} from '../format/filters.js'
import type {ImageRow} from './list.js'

export const IMAGE_FILTER_KEYS = ['dangling', 'label', 'reference', 'before', 'since'] as const

export function parseImageFilters(args: readonly string[] | undefined): Filters {
  const f = parseFilters(args, IMAGE_FILTER_KEYS)
  for (const v of filterValues(f, 'dangling')) parseBoolFilter('dangling', v)
  if (new Set(filterValues(f, 'dangling').map((v) => parseBoolFilter('dangling', v))).size > 1) throw new UsageError("invalid filter 'dangling': both true and false given")
  return f
}

export interface ResolvedImageFilters {
  /** Creation times (ISO) of the images before= / since= name. */
  before?: string
  since?: string
}

/** An image without a name (`<none>:<none>`) is dangling. */
export function isDangling(row: ImageRow): boolean {
  return row.Repository === '<none>' && row.Tag === '<none>'
}

export function imageMatches(f: Filters, row: ImageRow, labels: Readonly<Record<string, string>> | undefined, resolved: ResolvedImageFilters): boolean {
  if (!matchAny(f, 'dangling', (v) => parseBoolFilter('dangling', v) === isDangling(row))) return false
  if (!labelsMatch(f.get('label'), labels)) return false
  if (!matchAny(f, 'reference', (v) => referenceMatches(v, row.Repository, row.Tag === '<none>' ? undefined : row.Tag))) return false
  const created = row.Created ?? ''
  if (resolved.before !== undefined && !(created < resolved.before)) return false
  if (resolved.since !== undefined && !(created > resolved.since)) return false
  return true
}
