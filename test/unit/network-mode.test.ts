import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {networkMode} from '../../src/network/mode.js'

describe('networkMode', () => {
  it('takes the three modes; host loopback follows the configured default for slirp4netns only', () => {
    expect(networkMode('slirp4netns', false)).toEqual({network: 'slirp4netns', allowHostLoopback: false})
    expect(networkMode('slirp4netns', true)).toEqual({network: 'slirp4netns', allowHostLoopback: true})
    expect(networkMode('none', true)).toEqual({network: 'none', allowHostLoopback: false})
    expect(networkMode('host', false)).toEqual({network: 'host', allowHostLoopback: false})
  })

  it("accepts podman's slirp4netns:allow_host_loopback=true|false over the default", () => {
    expect(networkMode('slirp4netns:allow_host_loopback=true', false)).toEqual({network: 'slirp4netns', allowHostLoopback: true})
    expect(networkMode('slirp4netns:allow_host_loopback=false', true)).toEqual({network: 'slirp4netns', allowHostLoopback: false})
  })

  it('refuses unknown modes and options with one clear line', () => {
    expect(() => networkMode('bridge', false)).toThrow(new UsageError('unknown network "bridge": use slirp4netns, none or host'))
    expect(() => networkMode('host:x=1', false)).toThrow(/network "host" takes no options/)
    expect(() => networkMode('slirp4netns:mtu=1500', false)).toThrow(/unknown slirp4netns option "mtu=1500"/)
  })
})
