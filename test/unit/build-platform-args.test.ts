import {describe, expect, it} from 'vitest'
import {platformArgs} from '../../src/build/builder.js'
import {parsePlatform} from '../../src/image/platform.js'

describe('build platform ARGs', () => {
  it('defines (arm64/v8 spelled linux/arm64, as containerd normalizes it) BUILD* and TARGET* as BuildKit does', () => {
    const args = new Map(platformArgs(parsePlatform('linux/amd64'), parsePlatform('linux/arm64')))
    expect(Object.fromEntries(args)).toEqual({
      BUILDPLATFORM: 'linux/amd64',
      BUILDOS: 'linux',
      BUILDARCH: 'amd64',
      BUILDVARIANT: '',
      TARGETPLATFORM: 'linux/arm64',
      TARGETOS: 'linux',
      TARGETARCH: 'arm64',
      TARGETVARIANT: '',
    })
  })
})
