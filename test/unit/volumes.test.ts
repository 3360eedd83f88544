import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import {type ContainerMount, inspectMounts, mountsFrom, planMounts, seedableMounts, specMounts} from '../../src/volume/mounts.js'
import {
  matchVolume,
  parseDriverOptions,
  parseLabels,
  parseMountVolume,
  parseVolumeFilters,
  parseVolumeFlag,
  parseVolumesFrom,
  type VolumeFacts,
} from '../../src/volume/parse.js'

describe('parseVolumeFlag', () => {
  it('tells anonymous volumes, named volumes and bind mounts apart', () => {
    expect(parseVolumeFlag('/data')).toEqual({kind: 'volume', destination: '/data', readOnly: false, noCopy: false})
    expect(parseVolumeFlag('pg:/var/lib/pg/')).toEqual({kind: 'volume', name: 'pg', destination: '/var/lib/pg', readOnly: false, noCopy: false})
    expect(parseVolumeFlag('pg:/d:ro,nocopy')).toEqual({kind: 'volume', name: 'pg', destination: '/d', readOnly: true, noCopy: true})
    expect(parseVolumeFlag('pg:/d:rw,z')).toMatchObject({readOnly: false})
    expect(parseVolumeFlag('/host:/d:ro')).toEqual({kind: 'bind', spec: '/host:/d:ro'})
  })

  it('refuses what docker refuses', () => {
    for (const bad of ['', 'data', 'pg:rel', 'pg:/', './x:/d', 'a/b:/d', 'x:/d:bogus', 'x:/d:ro,rw', 'a:/b:ro:x', 'p g:/d', '-x:/d', 'a:']) {
      expect(() => parseVolumeFlag(bad), bad).toThrow(UsageError)
    }
  })
})

describe('parseMountVolume', () => {
  it('reads docker --mount type=volume fields', () => {
    expect(parseMountVolume('type=volume,src=pg,dst=/d')).toEqual({name: 'pg', destination: '/d', readOnly: false, noCopy: false})
    expect(parseMountVolume('type=volume,source=pg,target=/d,readonly,volume-nocopy')).toEqual({name: 'pg', destination: '/d', readOnly: true, noCopy: true})
    expect(parseMountVolume('type=volume,dst=/d,ro=false,volume-label=a=b,volume-opt=type=tmpfs,"volume-opt=o=size=1m,mode=700"')).toEqual({
      destination: '/d',
      readOnly: false,
      noCopy: false,
      labels: {a: 'b'},
      options: {type: 'tmpfs', o: 'size=1m,mode=700'},
    })
  })

  it('refuses other types, unknown fields and missing destinations', () => {
    for (const bad of ['type=bind,src=/x,dst=/d', 'type=volume,src=pg', 'type=volume,dst=/d,colour=red', 'type=volume,dst=/d,readonly=maybe', 'type=volume,dst=/d,volume-driver=nfs', 'type=volume,dst="/d']) {
      expect(() => parseMountVolume(bad), bad).toThrow(UsageError)
    }
  })
})

describe('parseVolumesFrom, parseLabels', () => {
  it('reads CONTAINER[:ro|rw]', () => {
    expect(parseVolumesFrom('db')).toEqual({container: 'db'})
    expect(parseVolumesFrom('db:ro')).toEqual({container: 'db', mode: 'ro'})
    expect(() => parseVolumesFrom('db:xx')).toThrow(UsageError)
    expect(() => parseVolumesFrom(':ro')).toThrow(UsageError)
  })

  it('reads labels', () => {
    expect(parseLabels(['a=b', 'c', 'd=e=f'])).toEqual({a: 'b', c: '', d: 'e=f'})
    expect(() => parseLabels(['=x'])).toThrow(UsageError)
  })
})

describe('parseDriverOptions', () => {
  it('accepts tmpfs and bind volumes', () => {
    expect(parseDriverOptions([])).toEqual({})
    expect(parseDriverOptions(['type=tmpfs', 'device=tmpfs', 'o=size=64m,mode=1777,uid=1000'])).toEqual({type: 'tmpfs', device: 'tmpfs', o: 'size=64m,mode=1777,uid=1000'})
    expect(parseDriverOptions(['type=none', 'o=bind', 'device=/srv/x'])).toEqual({type: 'none', o: 'bind', device: '/srv/x'})
  })

  it('refuses what needs a mount on the host, and unknown keys', () => {
    for (const bad of [['type=nfs', 'o=addr=1.2.3.4', 'device=:/x'], ['type=ext4', 'device=/dev/sda1'], ['o=bind'], ['o=bind', 'device=rel'], ['size=1g'], ['type=tmpfs', 'o=size=1m,exec=1'], ['novalue']]) {
      expect(() => parseDriverOptions(bad), bad.join(' ')).toThrow(UsageError)
    }
  })
})

describe('volume filters', () => {
  const v = (over: Partial<VolumeFacts>): VolumeFacts => ({name: 'pgdata', driver: 'local', labels: {team: 'db'}, inUse: false, anonymous: false, ...over})
  const f = (...list: string[]) => parseVolumeFilters(list, ['dangling', 'name', 'label', 'label!', 'driver'])

  it('matches docker filters', () => {
    expect(matchVolume(v({}), f())).toBe(true)
    expect(matchVolume(v({}), f('dangling=true'))).toBe(true)
    expect(matchVolume(v({inUse: true}), f('dangling=true'))).toBe(false)
    expect(matchVolume(v({inUse: true}), f('dangling=0'))).toBe(true)
    expect(matchVolume(v({}), f('name=^pg'))).toBe(true)
    expect(matchVolume(v({}), f('name=web', 'name=data'))).toBe(true)
    expect(matchVolume(v({}), f('name=web'))).toBe(false)
    expect(matchVolume(v({}), f('label=team'))).toBe(true)
    expect(matchVolume(v({}), f('label=team=db', 'label=tier'))).toBe(false)
    expect(matchVolume(v({}), f('label!=team=db'))).toBe(false)
    expect(matchVolume(v({}), f('label!=team=web'))).toBe(true)
    expect(matchVolume(v({}), f('driver=local'))).toBe(true)
  })

  it('refuses unknown keys and bad booleans', () => {
    expect(() => f('colour=red')).toThrow(/invalid filter 'colour'/)
    expect(() => f('dangling=maybe')).toThrow(UsageError)
    expect(() => f('dangling')).toThrow(UsageError)
  })
})

describe('planMounts', () => {
  const none = {imageVolumes: [], volumesFrom: [], volumeFlags: [], volumeMounts: [], tmpfsDestinations: new Set<string>()}

  it('orders image volumes, then --volumes-from, then -v and --mount by destination', () => {
    const from: ContainerMount = {type: 'volume', name: 'shared', source: '/s/_data', destination: '/data', readOnly: true}
    const plan = planMounts({
      ...none,
      imageVolumes: ['/data', '/cache/', '/tmpfs-here'],
      volumesFrom: [from],
      volumeFlags: ['mine:/cache', '/anon', '/:/host-root:ro'],
      tmpfsDestinations: new Set(['/tmpfs-here']),
    })
    expect(plan).toEqual([
      {kind: 'from', mount: from},
      {kind: 'volume', req: {name: 'mine', destination: '/cache', readOnly: false, noCopy: false}},
      {kind: 'volume', req: {destination: '/anon', readOnly: false, noCopy: false}},
      {kind: 'bind', bind: {source: '/', destination: '/host-root', readOnly: true}},
    ])
  })

  it('refuses two explicit mounts on one destination', () => {
    expect(() => planMounts({...none, volumeFlags: ['aa:/d', 'bb:/d']})).toThrow(/duplicate mount point: \/d/)
    expect(() => planMounts({...none, volumeFlags: ['aa:/d'], volumeMounts: [{destination: '/d', readOnly: false, noCopy: false}]})).toThrow(/duplicate/)
  })
})

describe('mount records', () => {
  const vol: ContainerMount = {type: 'volume', name: 'pg', source: '/st/volumes/pg/_data', destination: '/d', readOnly: false}
  const tmpfsVol: ContainerMount = {type: 'volume', name: 't', source: '/st/volumes/t/_data', destination: '/t', readOnly: true, driverOptions: {type: 'tmpfs', o: 'size=1m,rw'}}
  const bind: ContainerMount = {type: 'bind', source: '/h', destination: '/b', readOnly: true, propagation: 'rslave'}

  it('become OCI binds and tmpfs mounts', () => {
    expect(specMounts([vol, tmpfsVol, bind])).toEqual({
      binds: [
        {source: '/st/volumes/pg/_data', destination: '/d', readOnly: false},
        {source: '/h', destination: '/b', readOnly: true, propagation: 'rslave'},
      ],
      tmpfs: [{destination: '/t', options: ['size=1m', 'ro']}],
    })
  })

  it("are docker's Mounts entries", () => {
    expect(inspectMounts([vol, bind])).toEqual([
      {Type: 'volume', Name: 'pg', Source: '/st/volumes/pg/_data', Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: ''},
      {Type: 'bind', Source: '/h', Destination: '/b', Mode: 'ro', RW: false, Propagation: 'rslave'},
    ])
    expect(inspectMounts(undefined)).toEqual([])
  })

  it('seed only plain volumes without nocopy; --volumes-from modes', () => {
    expect(seedableMounts([vol, tmpfsVol, bind, {...vol, noCopy: true}])).toEqual([vol])
    expect(mountsFrom([vol, bind], 'ro').map((m) => m.readOnly)).toEqual([true, true])
    expect(mountsFrom([vol, bind], 'rw').map((m) => m.readOnly)).toEqual([false, false])
    expect(mountsFrom([vol, bind]).map((m) => m.readOnly)).toEqual([false, true])
  })
})

describe('generateSpec with volumes', () => {
  it('mounts parents before children, whatever their kind', async () => {
    const {generateSpec} = await import('../../src/spec/generate.js')
    const spec = generateSpec({
      image: {architecture: 'amd64', os: 'linux', config: {Cmd: ['sh']}, rootfs: {type: 'layers', diff_ids: []}},
      rootfsPath: '/r',
      containerId: 'c'.repeat(64),
      tty: false,
      stdin: false,
      readOnly: false,
      network: 'none',
      nofile: {soft: 1024, hard: 1024},
      mounts: [{source: '/v/_data', destination: '/a/b', readOnly: false}],
      tmpfs: [{destination: '/a', options: ['rw']}],
    })
    const dests = spec.mounts.map((m) => m.destination)
    expect(dests.indexOf('/a')).toBeLessThan(dests.indexOf('/a/b'))
  })
})
