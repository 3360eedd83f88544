import {describe, expect, it} from 'vitest'
import {parsePortShort, parseVolumeShort} from '../../src/compose/model/canonical.js'
import {ComposeFileError} from '../../src/errors.js'
import {load} from './compose-helpers.js'

const ctx = {projectDir: '/p', file: 'compose.yaml', home: '/home/u'}
const svc = async (yaml: string, files: Record<string, string> = {}) => (await load({'compose.yaml': `services:\n  s:\n${yaml.replace(/^/gm, '    ')}\n`, ...files})).services.s!

describe('ports', () => {
  it('expands the short syntax to the long one', () => {
    expect(parsePortShort('80', ctx, [])).toEqual([{mode: 'ingress', protocol: 'tcp', target: 80}])
    expect(parsePortShort('8080:80', ctx, [])).toEqual([{mode: 'ingress', protocol: 'tcp', target: 80, published: '8080'}])
    expect(parsePortShort('127.0.0.1:8080:80/udp', ctx, [])).toEqual([{mode: 'ingress', protocol: 'udp', host_ip: '127.0.0.1', target: 80, published: '8080'}])
    expect(parsePortShort('[::1]:8080:80', ctx, [])).toEqual([{mode: 'ingress', protocol: 'tcp', host_ip: '::1', target: 80, published: '8080'}])
    expect(parsePortShort('127.0.0.1::80', ctx, [])).toEqual([{mode: 'ingress', protocol: 'tcp', host_ip: '127.0.0.1', target: 80}])
  })

  it('expands ranges one port each; a host range for one port stays a range', () => {
    expect(parsePortShort('9000-9001:8000-8001', ctx, []).map((p) => [p.published, p.target])).toEqual([['9000', 8000], ['9001', 8001]])
    expect(parsePortShort('3000-3002', ctx, []).map((p) => p.target)).toEqual([3000, 3001, 3002])
    expect(parsePortShort('8000-8010:80', ctx, [])).toEqual([{mode: 'ingress', protocol: 'tcp', target: 80, published: '8000-8010'}])
  })

  it('refuses bad ports with the path', () => {
    for (const bad of ['abc', '80:abc', '1:2:3:4', '70000', '9000-9002:8000-8001', '80/icmp', '0']) {
      expect(() => parsePortShort(bad, ctx, ['services', 'web', 'ports', '[0]']), bad).toThrow(ComposeFileError)
    }
    expect(() => parsePortShort('80/icmp', ctx, ['services', 'web', 'ports', '[0]'])).toThrow('compose.yaml: services.web.ports[0]: invalid port "80/icmp": unknown protocol "icmp"')
  })

  it('takes numbers, strings and the long syntax in one list', async () => {
    const s = await svc('image: x\nports:\n  - 80\n  - "8080:81"\n  - {target: 82, published: 8082, host_ip: 0.0.0.0, protocol: udp}\n  - {target: "83"}')
    expect(s.ports).toEqual([
      {target: 80, protocol: 'tcp', mode: 'ingress'},
      {target: 81, protocol: 'tcp', mode: 'ingress', published: '8080'},
      {target: 82, protocol: 'udp', mode: 'ingress', published: '8082', host_ip: '0.0.0.0'},
      {target: 83, protocol: 'tcp', mode: 'ingress'},
    ])
  })
})

describe('volumes', () => {
  it('tells named, anonymous and bind mounts apart in the short syntax', () => {
    expect(parseVolumeShort('data:/data', ctx, [])).toEqual({type: 'volume', source: 'data', target: '/data'})
    expect(parseVolumeShort('/cache', ctx, [])).toEqual({type: 'volume', target: '/cache'})
    expect(parseVolumeShort('./src:/src:ro', ctx, [])).toEqual({type: 'bind', source: '/p/src', target: '/src', read_only: true, bind: {create_host_path: true}})
    expect(parseVolumeShort('~/x:/x:rw,z', ctx, [])).toEqual({type: 'bind', source: '/home/u/x', target: '/x', read_only: false, bind: {create_host_path: true, selinux: 'z'}})
    expect(parseVolumeShort('/h:/c:rshared', ctx, [])).toMatchObject({bind: {create_host_path: true, propagation: 'rshared'}})
    expect(parseVolumeShort('v:/c:nocopy', ctx, [])).toEqual({type: 'volume', source: 'v', target: '/c', volume: {nocopy: true}})
  })

  it('refuses what docker compose refuses', () => {
    for (const bad of ['rel', 'v:rel', 'a:/b:c:d', 'v:/c:bogus', '/h:/c:nocopy', 'v:/c:z']) {
      expect(() => parseVolumeShort(bad, ctx, ['services', 'web', 'volumes', '[0]']), bad).toThrow(ComposeFileError)
    }
  })

  it('normalizes the long syntax (tmpfs size, bind source against the project directory)', async () => {
    const p = await load({
      'compose.yaml': `services:
  s:
    image: x
    volumes:
      - {type: tmpfs, target: /t, tmpfs: {size: 64m, mode: 1777}}
      - {type: bind, source: ./conf, target: /conf, read_only: true}
      - {type: volume, source: data, target: /d, volume: {nocopy: true}}
volumes: {data: {}}
`,
    })
    expect(p.services.s!.volumes).toEqual([
      {type: 'tmpfs', target: '/t', read_only: false, tmpfs: {size: 64 * 1024 * 1024, mode: 1777}},
      {type: 'bind', source: `${p.dir}/conf`, target: '/conf', read_only: true, bind: {create_host_path: false}},
      {type: 'volume', source: 'data', target: '/d', read_only: false, volume: {nocopy: true}},
    ])
    expect(p.volumes.data).toEqual({name: 'app_data', driver_opts: {}, external: false, labels: {}})
  })
})

describe('services', () => {
  it('gives every attribute one shape and its empty value', async () => {
    const s = await svc('image: busybox')
    expect(s).toMatchObject({
      name: 's', image: 'busybox', command: null, entrypoint: null, environment: {}, ports: [], volumes: [], expose: [], tmpfs: [],
      networks: {default: {aliases: [], link_local_ips: []}}, depends_on: {}, labels: {}, read_only: false, scale: 1, stdin_open: false, tty: false,
    })
    expect(s.healthcheck).toBeUndefined()
    expect(s.restart).toBeUndefined()
  })

  it('splits command and entrypoint strings as a shell would, keeps lists, and keeps [] apart from unset', async () => {
    expect((await svc(`image: x\ncommand: sh -c 'echo "a b" && ls'`)).command).toEqual(['sh', '-c', 'echo "a b" && ls'])
    expect((await svc('image: x\ncommand: ["echo", "$$HOME"]')).command).toEqual(['echo', '$HOME'])
    expect((await svc('image: x\nentrypoint: []')).entrypoint).toEqual([])
    expect((await svc('image: x\nentrypoint: /bin/sh')).entrypoint).toEqual(['/bin/sh'])
  })

  it('makes environment a map: list and map forms, bare keys from the project environment, env_file under it', async () => {
    const files = {'.env': 'FROM_DOTENV=dot\n', 'a.env': 'X=file\nY=file\n# c\nZ=${FROM_DOTENV}\n'}
    const s = await svc('image: x\nenv_file: a.env\nenvironment:\n  - Y=env\n  - FROM_DOTENV\n  - UNSET\n  - NUM=1', files)
    expect(s.environment).toEqual({X: 'file', Y: 'env', Z: 'dot', FROM_DOTENV: 'dot', UNSET: null, NUM: '1'})
    const m = await svc('image: x\nenvironment: {A: 1, B: true, C: null, D: ""}')
    expect(m.environment).toEqual({A: '1', B: 'true', C: null, D: ''})
  })

  it('reads env_file entries in order, long syntax with required: false', async () => {
    const s = await svc('image: x\nenv_file:\n  - a.env\n  - {path: b.env}\n  - {path: missing.env, required: false}', {'a.env': 'A=1\nB=1\n', 'b.env': 'B=2\n'})
    expect(s.environment).toEqual({A: '1', B: '2'})
    expect(s.env_file.map((e) => e.required)).toEqual([true, true, false])
    await expect(svc('image: x\nenv_file: nope.env')).rejects.toThrow(/compose.yaml: services.s.env_file\[0\]: env file .*nope.env not found/)
  })

  it('reads label_file entries under the service\'s own labels', async () => {
    const s = await svc('image: x\nlabel_file: [a.labels, b.labels]\nlabels: {own: "1", b: own}', {'a.labels': '# team labels\na=1\nb=1\n', 'b.labels': 'b=2\nc=x=y\n'})
    expect(s.labels).toEqual({a: '1', b: 'own', c: 'x=y', own: '1'})
    await expect(svc('image: x\nlabel_file: nope.labels')).rejects.toThrow(/services.s.label_file\[0\]: label file .*nope.labels not found/)
  })

  it('makes depends_on a map with condition, required and restart', async () => {
    const p = await load({'compose.yaml': 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: {c: {condition: service_healthy, restart: true}}}\n  c: {image: x}\n'})
    expect(p.services.a!.depends_on).toEqual({b: {condition: 'service_started', required: true, restart: false}})
    expect(p.services.b!.depends_on).toEqual({c: {condition: 'service_healthy', required: true, restart: true}})
  })

  it('makes service networks a map with aliases', async () => {
    const p = await load({'compose.yaml': 'services:\n  a: {image: x, networks: [front, back]}\n  b: {image: x, networks: {front: {aliases: [api], ipv4_address: 10.5.0.5}}}\nnetworks: {front: {}, back: {internal: true}}\n'})
    expect(p.services.a!.networks).toEqual({front: {aliases: [], link_local_ips: []}, back: {aliases: [], link_local_ips: []}})
    expect(p.services.b!.networks).toEqual({front: {aliases: ['api'], ipv4_address: '10.5.0.5', link_local_ips: []}})
    expect(p.networks.back).toMatchObject({name: 'app_back', internal: true, external: false})
    expect(p.networks.default).toBeUndefined()
  })

  it('converts healthcheck durations to ms and a string test to CMD-SHELL', async () => {
    const s = await svc('image: x\nhealthcheck: {test: "wget -q localhost", interval: 1m30s, timeout: 500ms, start_period: 2s, start_interval: 1s, retries: 5}')
    expect(s.healthcheck).toEqual({test: ['CMD-SHELL', 'wget -q localhost'], interval: 90_000, timeout: 500, start_period: 2000, start_interval: 1000, retries: 5, disable: false})
    expect((await svc('image: x\nhealthcheck: {test: [CMD, "true"]}')).healthcheck!.test).toEqual(['CMD', 'true'])
    expect((await svc('image: x\nhealthcheck: {test: [NONE]}')).healthcheck).toEqual({disable: true})
    expect((await svc('image: x\nhealthcheck: {disable: true}')).healthcheck).toEqual({disable: true})
    await expect(svc('image: x\nhealthcheck: {test: [echo, hi]}')).rejects.toThrow('compose.yaml: services.s.healthcheck.test: must start with "CMD", "CMD-SHELL" or "NONE", not "echo"')
    await expect(svc('image: x\nhealthcheck: {interval: 10 s}')).rejects.toThrow('services.s.healthcheck.interval: "10 s" is not a duration')
  })

  it('takes restart from restart:, else deploy.restart_policy', async () => {
    expect((await svc('image: x\nrestart: on-failure:3')).restart).toBe('on-failure:3')
    expect((await svc('image: x\ndeploy: {restart_policy: {condition: on-failure, max_attempts: 2}}')).restart).toBe('on-failure:2')
    expect((await svc('image: x\ndeploy: {restart_policy: {condition: any}}')).restart).toBe('always')
    expect((await svc('image: x\ndeploy: {restart_policy: {condition: none}}')).restart).toBe('no')
    expect((await svc('image: x\nrestart: always\ndeploy: {restart_policy: {condition: none}}')).restart).toBe('always')
    await expect(svc('image: x\nrestart: sometimes')).rejects.toThrow('services.s.restart: invalid restart policy "sometimes"')
  })

  it('takes scale from scale:, else deploy.replicas (interpolated strings too)', async () => {
    expect((await svc('image: x\nscale: 3')).scale).toBe(3)
    expect((await svc('image: x\ndeploy: {replicas: 2}')).scale).toBe(2)
    expect((await svc('image: x\ndeploy: {replicas: "${N:-4}"}')).scale).toBe(4)
    expect((await svc('image: x\nscale: 0')).scale).toBe(0)
    await expect(load({'compose.yaml': 'services:\n  s: {image: x, scale: 2, container_name: one}\n'})).rejects.toThrow('"one" cannot be used with scale 2')
  })

  it('converts the other attributes', async () => {
    const s = await svc(`image: x
user: "1000:1000"
working_dir: /w
hostname: h
init: true
read_only: "true"
tty: yes
stdin_open: true
stop_signal: SIGINT
stop_grace_period: 1m
extra_hosts: ["a:1.2.3.4", "b=5.6.7.8"]
dns: 8.8.8.8
cap_add: [NET_ADMIN]
cap_drop: [ALL]
ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: 512}
shm_size: 64m
container_name: c1
labels: [a=b, c]
tmpfs: /run
expose: [80, "53/udp"]
sysctls: {net.core.somaxconn: 1024}`)
    expect(s).toMatchObject({
      user: '1000:1000', working_dir: '/w', hostname: 'h', init: true, read_only: true, tty: true, stdin_open: true, stop_signal: 'SIGINT', stop_grace_period: 60_000,
      extra_hosts: ['a:1.2.3.4', 'b:5.6.7.8'], dns: ['8.8.8.8'], cap_add: ['NET_ADMIN'], cap_drop: ['ALL'],
      ulimits: {nofile: {soft: 1024, hard: 2048}, nproc: {soft: 512, hard: 512}}, shm_size: 64 * 1024 * 1024, container_name: 'c1',
      labels: {a: 'b', c: ''}, tmpfs: ['/run'], expose: ['80', '53/udp'], sysctls: {'net.core.somaxconn': '1024'},
    })
    const map = await svc('image: x\nextra_hosts: {a: 1.2.3.4, b: ["::1", 10.0.0.1]}')
    expect(map.extra_hosts).toEqual(['a:1.2.3.4', 'b:::1', 'b:10.0.0.1'])
  })

  it('refuses network_mode together with networks', async () => {
    await expect(load({'compose.yaml': 'services:\n  s: {image: x, network_mode: host, networks: [n]}\nnetworks: {n: {}}\n'})).rejects.toThrow('"network_mode" and "networks" cannot be combined')
    const p = await load({'compose.yaml': 'services:\n  s: {image: x, network_mode: host}\n'})
    expect(p.services.s!.networks).toEqual({})
    expect(p.networks).toEqual({})
  })

  it('resolves a build context against the project directory', async () => {
    const p = await load({'compose.yaml': 'services:\n  s: {build: ./web}\n  t: {build: {context: ., dockerfile: Containerfile, args: [A=1, B]}}\n'})
    expect(p.services.s!.build).toMatchObject({context: `${p.dir}/web`})
    expect(p.services.t!.build).toMatchObject({context: p.dir, dockerfile: 'Containerfile', args: {A: '1', B: null}})
  })
})
