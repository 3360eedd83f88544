import {createHash} from 'node:crypto'
import {IntegrityError} from '../errors.js'

/**
 * A content digest (OCI image-spec "digests"), parsed once at the boundary where a string comes
 * in (a manifest, a config, a record, a command-line argument) and trusted afterwards: its hex
 * part may be used as a file name. Only sha256 is supported, as by the rest of ctr-ts.
 */
export interface Digest {
  readonly algorithm: 'sha256'
  /** 64 lowercase hex characters. */
  readonly hex: string
  /** `sha256:<hex>`, the form stored in records and sent to registries. */
  readonly value: string
}

const SHA256_HEX = /^[a-f0-9]{64}$/

/** True for 64 lowercase hex characters (the name of a blob or of an unpacked layer directory). */
export function isDigestHex(s: string): boolean {
  return SHA256_HEX.test(s)
}

/** True for `sha256:<64 lowercase hex>`. */
export function isDigest(s: unknown): s is string {
  return typeof s === 'string' && s.startsWith('sha256:') && isDigestHex(s.slice(7))
}

/** The digest whose hex part is `hex` (a file name read back from the store). */
export function digestFromHex(hex: string): Digest {
  if (!isDigestHex(hex)) throw new IntegrityError(`malformed digest hex ${JSON.stringify(hex.slice(0, 100))}`)
  return {algorithm: 'sha256', hex, value: `sha256:${hex}`}
}

/**
 * Parses `sha256:<64 hex>`; anything else throws IntegrityError naming `what` (never a path
 * component from outside).
 */
export function parseDigest(s: unknown, what = 'digest'): Digest {
  if (!isDigest(s)) {
    const shown = typeof s === 'string' ? JSON.stringify(s.slice(0, 100)) : String(s)
    throw new IntegrityError(`unsupported or malformed ${what} ${shown}: want sha256:<64 hex>`)
  }
  return digestFromHex(s.slice(7))
}

/** The sha256 digest of `bytes`. */
export function digestOf(bytes: Buffer | string): Digest {
  return digestFromHex(createHash('sha256').update(bytes).digest('hex'))
}
