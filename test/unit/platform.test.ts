import {describe, expect, it} from 'vitest'
import {NotFoundError, UsageError} from '../../src/errors.js'
import {formatPlatform, hostPlatform, parsePlatform, selectManifest} from '../../src/image/platform.js'
import type {Descriptor, Platform} from '../../src/oci/types.js'

const d = (n: number, platform?: Platform, annotations?: Record<string, string>): Descriptor => ({
  mediaType: 'application/vnd.oci.image.manifest.v1+json',
  digest: `sha256:${String(n).repeat(64).slice(0, 64)}`,
  size: 100,
  ...(platform ? {platform} : {}),
  ...(annotations ? {annotations} : {}),
})

const index = [
  d(1, {os: 'linux', architecture: 'amd64'}),
  d(2, {os: 'linux', architecture: 'arm64', variant: 'v8'}),
  d(3, {os: 'linux', architecture: 'arm', variant: 'v6'}),
  d(4, {os: 'linux', architecture: 'arm', variant: 'v7'}),
  d(5, {os: 'unknown', architecture: 'unknown'}, {'vnd.docker.reference.type': 'attestation-manifest'}),
  d(6, {os: 'windows', architecture: 'amd64'}),
]

describe('platforms', () => {
  it('parses and normalizes os/arch[/variant]', () => {
    expect(parsePlatform('linux/amd64')).toEqual({os: 'linux', architecture: 'amd64'})
    expect(parsePlatform('linux/arm64')).toEqual({os: 'linux', architecture: 'arm64', variant: 'v8'})
    expect(parsePlatform('linux/aarch64')).toEqual({os: 'linux', architecture: 'arm64', variant: 'v8'})
    expect(parsePlatform('linux/x86_64')).toEqual({os: 'linux', architecture: 'amd64'})
    expect(parsePlatform('linux/arm')).toEqual({os: 'linux', architecture: 'arm', variant: 'v7'})
    expect(parsePlatform('linux/arm/6')).toEqual({os: 'linux', architecture: 'arm', variant: 'v6'})
    expect(formatPlatform(parsePlatform('linux/arm64'))).toBe('linux/arm64/v8')
    expect(() => parsePlatform('linux')).toThrow(UsageError)
    expect(() => parsePlatform('linux/amd64/v2/x')).toThrow(UsageError)
    expect(() => parsePlatform('linux/am d64')).toThrow(UsageError)
  })

  it('maps the Node architecture of the host', () => {
    expect(hostPlatform('x64')).toEqual({os: 'linux', architecture: 'amd64'})
    expect(hostPlatform('arm64')).toEqual({os: 'linux', architecture: 'arm64', variant: 'v8'})
    expect(hostPlatform('ia32')).toEqual({os: 'linux', architecture: '386'})
    expect(hostPlatform('s390x')).toEqual({os: 'linux', architecture: 's390x'})
  })
})

describe('selectManifest', () => {
  it('picks the exact platform', () => {
    expect(selectManifest(index, parsePlatform('linux/amd64')).digest).toBe(index[0]!.digest)
    expect(selectManifest(index, parsePlatform('linux/arm/v6')).digest).toBe(index[2]!.digest)
    expect(selectManifest(index, parsePlatform('windows/amd64')).digest).toBe(index[5]!.digest)
  })

  it('applies variant defaults (arm64 = v8, arm = v7)', () => {
    expect(selectManifest(index, {os: 'linux', architecture: 'arm64'}).digest).toBe(index[1]!.digest)
    expect(selectManifest(index, {os: 'linux', architecture: 'arm'}).digest).toBe(index[3]!.digest)
    const noVariant = [d(7, {os: 'linux', architecture: 'arm64'})]
    expect(selectManifest(noVariant, parsePlatform('linux/arm64/v8')).digest).toBe(noVariant[0]!.digest)
  })

  it('falls back to an older compatible arm variant', () => {
    const only5 = [d(8, {os: 'linux', architecture: 'arm', variant: 'v5'})]
    expect(selectManifest(only5, parsePlatform('linux/arm/v7')).digest).toBe(only5[0]!.digest)
    expect(() => selectManifest([d(9, {os: 'linux', architecture: 'arm', variant: 'v7'})], parsePlatform('linux/arm/v6'))).toThrow(NotFoundError)
  })

  it('skips attestation manifests', () => {
    const attOnly = [d(5, {os: 'unknown', architecture: 'unknown'}), d(6, {os: 'linux', architecture: 'amd64'}, {'vnd.docker.reference.type': 'attestation-manifest'})]
    expect(() => selectManifest(attOnly, parsePlatform('linux/amd64'))).toThrow(NotFoundError)
  })

  it('explains a miss by listing what is available', () => {
    expect(() => selectManifest(index, parsePlatform('linux/s390x'))).toThrow(
      /no matching manifest for linux\/s390x .*available: linux\/amd64, linux\/arm64\/v8, linux\/arm\/v6, linux\/arm\/v7, windows\/amd64\)/,
    )
  })
})
