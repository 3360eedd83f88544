import {describe, expect, it} from 'vitest'
import {matchNetwork, parseNetworkFilters} from '../../src/network/filters.js'
import {formatIpv4, parseCidr, parseIpv4} from '../../src/network/ipv4.js'
import {classifyNetworks} from '../../src/network/mode.js'
import {netAttachArgs} from '../../src/network/attach.js'
import {BUILTIN_NETWORKS, findBuiltinNetwork} from '../../src/network/builtin.js'
import type {NetworkRecord} from '../../src/network/records.js'

const net: NetworkRecord = {
  name: 'backend',
  id: 'a'.repeat(64),
  driver: 'bridge',
  created: '2026-01-01T00:00:00.000Z',
  subnet: '10.89.1.0/24',
  gateway: '10.89.1.1',
  internal: false,
  labels: {env: 'ci', team: ''},
  bridge: 'ctrts1',
}

describe('ipv4', () => {
  it('parses and formats addresses and subnets', () => {
    expect(formatIpv4(parseIpv4('10.89.1.7'))).toBe('10.89.1.7')
    const s = parseCidr('10.77.0.130/25')
    expect([formatIpv4(s.network), formatIpv4(s.broadcast), s.prefix]).toEqual(['10.77.0.128', '10.77.0.255', 25])
    expect(() => parseIpv4('10.0.0.256')).toThrow(/invalid IPv4/)
    expect(() => parseCidr('10.0.0.0/33')).toThrow(/invalid subnet/)
  })
})

describe('classifyNetworks', () => {
  it('sorts --network values', () => {
    expect(classifyNetworks([])).toBeUndefined()
    expect(classifyNetworks(['none'])).toEqual({kind: 'builtin', value: 'none'})
    expect(classifyNetworks(['slirp4netns:allow_host_loopback=true'])).toEqual({kind: 'builtin', value: 'slirp4netns:allow_host_loopback=true'})
    expect(classifyNetworks(['container:db'])).toEqual({kind: 'container', target: 'db'})
    expect(classifyNetworks(['bridge'])).toEqual({kind: 'builtin', value: 'bridge'})
    expect(classifyNetworks(['a', 'b'])).toEqual({kind: 'user', names: ['a', 'b']})
    expect(() => classifyNetworks(['host', 'a'])).toThrow(/cannot be combined/)
    expect(() => classifyNetworks(['a', 'a'])).toThrow(/twice/)
    expect(() => classifyNetworks(['container:'])).toThrow(/needs a container/)
  })
})

describe('network filters', () => {
  it('match by name, id, label and driver (OR within a key, AND across keys)', () => {
    const f = (...v: string[]) => matchNetwork(net, parseNetworkFilters(v))
    expect(f('name=back')).toBe(true)
    expect(f('name=front', 'name=back')).toBe(true)
    expect(f('id=aaaa', 'driver=bridge')).toBe(true)
    expect(f('label=env=ci', 'label=team')).toBe(true)
    expect(f('label=env=prod')).toBe(false)
    expect(f('driver=macvlan')).toBe(false)
    expect(() => parseNetworkFilters(['until=1h'])).toThrow(/invalid filter/)
    expect(() => parseNetworkFilters(['name'])).toThrow(/KEY=VALUE/)
  })
})

describe('netAttachArgs', () => {
  it('one group per network in --network order: interface ethN, names (container name first), internal', () => {
    const other = {...net, name: 'other', id: 'b'.repeat(64), subnet: '10.89.2.0/24', gateway: '10.89.2.1', bridge: 'ctrts2', internal: true}
    const args = netAttachArgs({
      configDir: '/run/cfg',
      aardvark: '/usr/lib/podman/aardvark-dns',
      netns: '/proc/7/ns/net',
      containerId: 'c'.repeat(64),
      containerName: 'web',
      attachments: [
        {network: net, ip: '10.89.1.2', aliases: ['cccccccccccc', 'site']},
        {network: other, ip: '10.89.2.5', aliases: ['cccccccccccc']},
      ],
    })
    expect(args.join(' ')).toBe(
      `--config-dir /run/cfg --aardvark /usr/lib/podman/aardvark-dns --netns /proc/7/ns/net --id ${'c'.repeat(64)} ` +
        `--net backend --ifname eth0 --bridge ${net.bridge} --subnet ${net.subnet} --gateway ${net.gateway} --ip 10.89.1.2 --names web,cccccccccccc,site ` +
        `--net other --ifname eth1 --bridge ctrts2 --subnet 10.89.2.0/24 --gateway 10.89.2.1 --ip 10.89.2.5 --names web,cccccccccccc --internal`,
    )
  })

  it('detach names the network and the address only', () => {
    const args = netAttachArgs({configDir: 'd', aardvark: 'a', netns: 'n', containerId: 'x', containerName: 'web', attachments: [{network: net, ip: '10.89.1.2', aliases: []}], detach: true})
    expect(args).toEqual(['--config-dir', 'd', '--aardvark', 'a', '--netns', 'n', '--id', 'x', '--detach', '--net', 'backend', '--ip', '10.89.1.2'])
  })
})

describe('pre-defined networks', () => {
  it('bridge, host and none by name or id prefix (12 digits at least), fixed ids, docker drivers', () => {
    expect(BUILTIN_NETWORKS.map((n) => [n.name, n.driver, n.mode])).toEqual([['bridge', 'bridge', 'slirp4netns'], ['host', 'host', 'host'], ['none', 'null', 'none']])
    const bridge = findBuiltinNetwork('bridge')!
    expect(bridge.id).toMatch(/^[0-9a-f]{64}$/)
    expect(findBuiltinNetwork(bridge.id.slice(0, 12))).toBe(bridge)
    expect(findBuiltinNetwork(bridge.id.slice(0, 3))).toBeUndefined()
    expect(findBuiltinNetwork('backend')).toBeUndefined()
  })

  it('type=builtin and type=custom tell them from user-defined networks', () => {
    const f = (v: string, builtin: boolean) => matchNetwork({name: 'x', id: 'a', driver: 'bridge', labels: {}, builtin}, parseNetworkFilters([v]))
    expect(f('type=builtin', true)).toBe(true)
    expect(f('type=custom', true)).toBe(false)
    expect(f('type=custom', false)).toBe(true)
  })
})
