import {describe, expect, it} from 'vitest'
import {IntegrityError} from '../../src/errors.js'
import {digestFromHex, digestOf, isDigest, isDigestHex, parseDigest} from '../../src/oci/digest.js'

const hex = 'a'.repeat(64)

describe('Digest', () => {
  it('parses sha256:<64 lowercase hex> once into algorithm, hex and value', () => {
    expect(parseDigest(`sha256:${hex}`)).toEqual({algorithm: 'sha256', hex, value: `sha256:${hex}`})
    expect(digestFromHex(hex).value).toBe(`sha256:${hex}`)
    expect(digestOf('hello').value).toBe('sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')
  })

  it('refuses anything else with an IntegrityError naming what it was', () => {
    for (const bad of [`sha256:${hex.toUpperCase()}`, `sha256:${hex}0`, `sha256:${hex.slice(1)}`, `sha512:${hex}`, hex, 'sha256:../../etc/passwd', '', `sha256:${hex}\n`]) {
      expect(() => parseDigest(bad, 'diff id'), bad).toThrow(IntegrityError)
      expect(isDigest(bad), bad).toBe(false)
    }
    expect(() => parseDigest(42)).toThrow(/malformed digest 42/)
    expect(() => parseDigest('sha256:x', 'layer digest')).toThrow(/layer digest "sha256:x": want sha256:<64 hex>/)
    expect(() => digestFromHex('../x')).toThrow(IntegrityError)
  })

  it('tells hex names (store file names) apart', () => {
    expect(isDigestHex(hex)).toBe(true)
    expect(isDigestHex(`${hex}.json`)).toBe(false)
    expect(isDigestHex('.tmp-abc')).toBe(false)
    expect(isDigest(`sha256:${hex}`)).toBe(true)
    expect(isDigest(undefined)).toBe(false)
  })
})
