import {describe, expect, it} from 'vitest'
import {createOptionsFromApi, publishFromBindings, shellQuote} from '../../src/api/create-options.js'
import {ApiError, queryFilters} from '../../src/api/http.js'
import {frame, parseFrames} from '../../src/api/stream.js'
import {activationFd, parseListenUri} from '../../src/api/server.js'

describe('ContainerCreate body → CreateOptions', () => {
  it('translates Config, HostConfig and NetworkingConfig to the CLI flags values', () => {
    const o = createOptionsFromApi({
      name: 'web',
      hostEnv: {},
      body: {
        Image: 'busybox',
        Entrypoint: ['/bin/sh', '-c'],
        Cmd: ['echo hi'],
        Env: ['A=1'],
        Labels: {tier: 'front'},
        Tty: true,
        OpenStdin: true,
        WorkingDir: '/srv',
        User: '1000:1000',
        StopSignal: 'SIGINT',
        Hostname: 'h1',
        Healthcheck: {Test: ['CMD', 'wget', '-q', 'http://x/'], Interval: 2_000_000_000, Retries: 3},
        HostConfig: {
          PortBindings: {'80/tcp': [{HostIp: '127.0.0.1', HostPort: '8080'}], '53/udp': [{HostPort: ''}]},
          Binds: ['/data:/data:ro'],
          Mounts: [{Type: 'tmpfs', Target: '/scratch', TmpfsOptions: {SizeBytes: 1048576}}],
          RestartPolicy: {Name: 'on-failure', MaximumRetryCount: 2},
          AutoRemove: true,
          Init: true,
          CapAdd: ['NET_ADMIN'],
          CapDrop: ['MKNOD'],
          ExtraHosts: ['db:10.0.0.2'],
          Dns: ['1.1.1.1'],
          Tmpfs: {'/run': 'size=64m'},
          ShmSize: 67108864,
          ReadonlyRootfs: true,
          Ulimits: [{Name: 'nofile', Soft: 1024, Hard: 2048}],
          NetworkMode: 'appnet',
        },
        NetworkingConfig: {EndpointsConfig: {appnet: {Aliases: ['web-alias']}}},
      },
    })
    expect(o).toMatchObject({
      image: 'busybox',
      name: 'web',
      entrypoint: '/bin/sh',
      args: ['-c', 'echo hi'],
      env: ['A=1'],
      labels: ['tier=front'],
      tty: true,
      interactive: true,
      workdir: '/srv',
      user: '1000:1000',
      stopSignal: 'SIGINT',
      hostname: 'h1',
      health: {cmd: 'wget -q http://x/', interval: '2000ms', retries: 3},
      publish: ['127.0.0.1:8080:80/tcp', '53/udp'],
      volumes: ['/data:/data:ro'],
      mounts: ['type=tmpfs,target=/scratch,tmpfs-size=1048576'],
      restart: 'on-failure:2',
      autoRemove: true,
      init: true,
      capAdd: ['NET_ADMIN'],
      capDrop: ['MKNOD'],
      addHosts: ['db:10.0.0.2'],
      dns: ['1.1.1.1'],
      tmpfs: ['/run:size=64m'],
      shmSize: '67108864',
      readOnly: true,
      ulimits: ['nofile=1024:2048'],
      network: 'appnet',
      networks: ['appnet'],
      networkAliases: ['web-alias'],
      pull: 'never',
    })
  })

  it('the default network is ctr-ts default; no Entrypoint keeps the image one', () => {
    const o = createOptionsFromApi({hostEnv: {}, body: {Image: 'busybox', Cmd: ['true'], HostConfig: {NetworkMode: 'default'}}})
    expect(o.network).toBeUndefined()
    expect(o.entrypoint).toBeUndefined()
    expect(o.args).toEqual(['true'])
  })

  it('refuses what ctr-ts cannot do and bad shapes with a 400', () => {
    expect(() => createOptionsFromApi({hostEnv: {}, body: {}})).toThrow(ApiError)
    expect(() => createOptionsFromApi({hostEnv: {}, body: {Image: 'x', HostConfig: {CgroupParent: '/x'}}})).toThrow(/CgroupParent/)
    expect(() => createOptionsFromApi({hostEnv: {}, body: {Image: 'x', Cmd: [1]}})).toThrow(/Cmd/)
    expect(() => createOptionsFromApi({hostEnv: {}, body: {Image: 'x', Healthcheck: {Test: ['BOGUS']}}})).toThrow(/Healthcheck/)
  })

  it('Healthcheck NONE disables the image one', () => {
    expect(createOptionsFromApi({hostEnv: {}, body: {Image: 'x', Healthcheck: {Test: ['NONE']}}}).health).toEqual({none: true})
  })

  it('PortBindings with IPv6 and no host port', () => {
    expect(publishFromBindings({'80/tcp': [{HostIp: '::1', HostPort: '9000'}], '443/tcp': null})).toEqual(['[::1]:9000:80/tcp', '443/tcp'])
    expect(publishFromBindings({'8080/tcp': [{HostPort: '0'}]})).toEqual(['8080/tcp'])
  })

  it('shell quoting for exec-form healthchecks', () => {
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
    expect(shellQuote('plain')).toBe('plain')
  })
})

describe('API helpers', () => {
  it('multiplexed frames round-trip', () => {
    const buf = Buffer.concat([frame(1, Buffer.from('out')), frame(2, Buffer.from('err')), Buffer.from([1, 0, 0])])
    const {frames, rest} = parseFrames(buf)
    expect(frames.map((f) => [f.stream, f.payload.toString()])).toEqual([
      [1, 'out'],
      [2, 'err'],
    ])
    expect(rest.length).toBe(3)
    expect(frame(1, Buffer.from('ab')).subarray(0, 8)).toEqual(Buffer.from([1, 0, 0, 0, 0, 0, 0, 2]))
  })

  it('filters in both of docker JSON shapes', () => {
    const q = new URLSearchParams({filters: JSON.stringify({status: ['exited'], label: {'a=b': true, c: false}})})
    expect(queryFilters(q)).toEqual(['status=exited', 'label=a=b'])
    expect(() => queryFilters(new URLSearchParams({filters: '{'}))).toThrow(ApiError)
  })

  it('listen addresses and socket activation', () => {
    expect(parseListenUri('unix:///run/x.sock')).toEqual({kind: 'unix', path: '/run/x.sock'})
    expect(parseListenUri('tcp://127.0.0.1:2375')).toEqual({kind: 'tcp', host: '127.0.0.1', port: 2375})
    expect(() => parseListenUri('unix://relative')).toThrow()
    expect(() => parseListenUri('http://x')).toThrow()
    expect(activationFd({LISTEN_PID: String(process.pid), LISTEN_FDS: '1'})).toBe(3)
    expect(activationFd({LISTEN_PID: '1', LISTEN_FDS: '1'})).toBeUndefined()
    expect(activationFd({})).toBeUndefined()
  })
})
