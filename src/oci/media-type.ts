import {IntegrityError, UnsupportedMediaTypeError} from '../errors.js'
import {MediaType} from './types.js'

/** Media types of manifest documents, and refusal of ambiguous ones. No schema library here: the registry client loads this. */

export function describeValue(value: unknown): string {
  if (value === null) return 'null'
  if (Array.isArray(value)) return 'a list'
  if (typeof value === 'object') return 'an object'
  return `${typeof value === 'string' ? 'a string' : typeof value === 'number' ? 'a number' : `a ${typeof value}`}`
}

export function parseJsonDocument(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'))
  } catch {
    throw new IntegrityError(`${what} is not valid JSON`)
  }
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList])
const MANIFEST_TYPES = new Set<string>([MediaType.OciManifest, MediaType.DockerManifest])
const GENERIC_TYPES = new Set(['application/json', 'text/plain', 'application/octet-stream'])

/** "application/json; charset=utf-8" → "application/json". */
export function bareMediaType(value: string | undefined): string | undefined {
  return value?.split(';')[0]?.trim().toLowerCase() || undefined
}

/**
 * The media type of a manifest or index document, refusing ambiguous ones (CVE-2021-41190, as
 * the OCI image-spec 1.0.2 and distribution-spec fixed it): a document with both `manifests` and
 * `config`/`layers`; a `mediaType` field that disagrees with the Content-Type it was served with,
 * or with what the document holds. Without a mediaType field and a specific Content-Type, the
 * type is inferred from the content (OCI manifests may omit the field).
 */
export function manifestMediaType(doc: unknown, contentType: string | undefined, what: string): string {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new IntegrityError(`${what}: manifest is not a JSON object`)
  const d = doc as {mediaType?: unknown; schemaVersion?: unknown; manifests?: unknown; config?: unknown; layers?: unknown}
  if (d.schemaVersion === 1) throw new UnsupportedMediaTypeError(`${what}: Docker image manifest schema 1 is not supported`)
  const looksIndex = d.manifests !== undefined
  const looksManifest = d.config !== undefined || d.layers !== undefined
  if (looksIndex && looksManifest) {
    throw new IntegrityError(`${what}: ambiguous manifest: it has both "manifests" and "config"/"layers" (refused, CVE-2021-41190)`)
  }
  const field = d.mediaType
  if (field !== undefined && typeof field !== 'string') throw new IntegrityError(`${what}: .mediaType must be a string, got ${describeValue(field)}`)
  const served = bareMediaType(contentType)
  const servedSpecific = served !== undefined && !GENERIC_TYPES.has(served)
  if (field !== undefined && servedSpecific && field !== served) {
    throw new IntegrityError(`${what}: ambiguous manifest: its mediaType ${field} disagrees with the Content-Type ${served} it was served with (refused, CVE-2021-41190)`)
  }
  const type = field ?? (servedSpecific ? served : undefined)
  if (type === undefined) {
    if (looksIndex) return MediaType.OciIndex
    if (looksManifest) return MediaType.OciManifest
    throw new UnsupportedMediaTypeError(`${what}: unrecognized manifest (media type ${served ?? 'missing'})`)
  }
  if (INDEX_TYPES.has(type)) {
    if (looksManifest) throw new IntegrityError(`${what}: ambiguous manifest: mediaType ${type} but it has "config"/"layers" (refused, CVE-2021-41190)`)
    return type
  }
  if (MANIFEST_TYPES.has(type)) {
    if (looksIndex) throw new IntegrityError(`${what}: ambiguous manifest: mediaType ${type} but it has "manifests" (refused, CVE-2021-41190)`)
    return type
  }
  throw new UnsupportedMediaTypeError(`${what}: unsupported manifest media type ${type}`)
}
