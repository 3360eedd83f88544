import type {ImageRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {parseReference} from '../reference/parse.js'
import {listImages} from '../store/images.js'
import {formatPlatform} from './platform.js'

export interface ImageRow {
  Repository: string
  Tag: string
  /** Full image id (config digest). */
  Id: string
  /** The digest the image was pulled by (index digest when there was one). */
  Digest: string
  Created?: string
  /** Sum of compressed layer sizes. */
  Size: number
  Ref: string
  Platform: string
}

export function imageRow(r: ImageRecord): ImageRow {
  let repository = r.ref
  let tag = '<none>'
  try {
    const ref = parseReference(r.ref)
    repository = ref.familiarName
    tag = ref.tag ?? '<none>'
  } catch {
    // a record written by a future version; show it raw
  }
  return {
    Repository: repository,
    Tag: tag,
    Id: r.id,
    Digest: r.indexDigest ?? r.manifestDigest,
    Created: r.created,
    Size: r.size,
    Ref: r.ref,
    Platform: formatPlatform(r.platform),
  }
}

export async function imageRows(store: StoreLayout): Promise<ImageRow[]> {
  return (await listImages(store)).map(imageRow)
}

/** "3 days ago", like docker. */
export function humanAgo(iso: string | undefined, now = Date.now()): string {
  if (!iso) return 'N/A'
  const t = Date.parse(iso)
  if (Number.isNaN(t)) return 'N/A'
  const s = Math.max(0, Math.round((now - t) / 1000))
  const units: Array<[number, string]> = [
    [365 * 24 * 3600, 'year'],
    [30 * 24 * 3600, 'month'],
    [7 * 24 * 3600, 'week'],
    [24 * 3600, 'day'],
    [3600, 'hour'],
    [60, 'minute'],
  ]
  for (const [size, name] of units) {
    const n = Math.floor(s / size)
    if (n >= 1) return n === 1 ? `${name === 'hour' ? 'An' : 'A'} ${name} ago` : `${n} ${name}s ago`
  }
  return s < 2 ? 'Less than a second ago' : `${s} seconds ago`
}

/** Decimal sizes like docker: 4.26MB. */
export function humanSize(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB']
  let v = bytes
  let i = 0
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000
    i++
  }
  return `${i === 0 ? v : Number(v.toPrecision(3))}${units[i]}`
}

/** Columns padded to their widest cell, separated by three spaces. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)))
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('   ').trimEnd()
  return [line(header), ...rows.map(line)].join('\n')
}
