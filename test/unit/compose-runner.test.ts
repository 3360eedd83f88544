/**
 * The compose runner's pure parts: the dependency order, a service as the engine's create
 * options (ports, mounts, healthcheck, networks, labels), the config hash, log prefixes, --scale
 * and the project flags given before the subcommand. Projects come from the real loader.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {hoistComposeFlags} from '../../src/cli/compose-argv.js'
import {loadProject} from '../../src/compose/model/load.js'
import type {ComposeProject} from '../../src/compose/model/types.js'
import {containerPlan, healthConfig, mountSpecs, type NameResolver, publishSpec} from '../../src/compose/project/create-options.js'
import {configHash, containerName} from '../../src/compose/project/labels.js'
import {LogMux, shortName} from '../../src/compose/project/logs.js'
import {serviceOrder} from '../../src/compose/project/order.js'
import {parseScale} from '../../src/compose/project/up.js'

const dirs: string[] = []
afterAll(() => {
  for (const d of dirs) rmSync(d, {recursive: true, force: true})
})

async function load(yaml: string, name = 'proj'): Promise<ComposeProject> {
  const dir = mkdtempSync(join(tmpdir(), 'compose-unit-'))
  dirs.push(dir)
  writeFileSync(join(dir, 'compose.yaml'), yaml)
  return loadProject({workingDir: dir, projectName: name, env: {}})
}

const resolve = (p: ComposeProject): NameResolver => ({
  network: (k) => p.networks[k]!.name,
  volume: (k) => p.volumes[k]!.name,
  serviceContainer: (s) => `${p.name}-${s}-1`,
})

describe('serviceOrder', () => {
  const stack = `
services:
  web: {image: x, depends_on: [api]}
  api: {image: x, depends_on: {db: {condition: service_healthy}}}
  db: {image: x}
  side: {image: x, network_mode: "service:api"}
`
  it('puts dependencies first, transitively, for all or the selected services', async () => {
    const p = await load(stack)
    expect(serviceOrder(p)).toEqual(['db', 'api', 'web', 'side'])
    expect(serviceOrder(p, ['web'])).toEqual(['db', 'api', 'web'])
    expect(serviceOrder(p, ['side'])).toEqual(['db', 'api', 'side'])
    expect(serviceOrder(p, ['web'], {noDeps: true})).toEqual(['web'])
    expect(serviceOrder(p, ['api', 'db'], {noDeps: true})).toEqual(['db', 'api'])
  })
  it('refuses an unknown service', async () => {
    const p = await load(stack)
    expect(() => serviceOrder(p, ['nope'])).toThrow(/no such service: nope/)
  })
})

describe('containerPlan', () => {
  it('maps a service to the create options of `run`', async () => {
    const p = await load(`
services:
  app:
    image: busybox
    entrypoint: ["/bin/sh", "-c"]
    command: ["echo hi"]
    environment: {A: "1", B: ""}
    ports: ["8080:80", "127.0.0.1:5353:53/udp", "9000"]
    volumes: ["data:/data", "./src:/src:ro", "/anon", {type: tmpfs, target: /scratch, tmpfs: {size: 1024}}]
    networks:
      front: {aliases: [www]}
      back: {}
    healthcheck: {test: ["CMD", "true"], interval: 2s, retries: 4}
    ulimits: {nofile: {soft: 1024, hard: 2048}}
    extra_hosts: ["db:10.0.0.2"]
    cap_add: [NET_ADMIN]
    stop_grace_period: 1500ms
    restart: unless-stopped
    init: true
    read_only: true
    user: "1000"
    working_dir: /src
    labels: {team: core}
networks: {front: {}, back: {}}
volumes: {data: {}}
`)
    const svc = p.services.app!
    const plan = containerPlan(p, svc, resolve(p), {number: 2})
    const c = plan.create
    expect(plan.name).toBe('proj-app-2')
    expect(c.entrypoint).toBe('/bin/sh')
    expect(c.args).toEqual(['-c', 'echo hi'])
    expect(c.env).toEqual(['A=1', 'B='])
    expect(c.publish).toEqual(['8080:80', '127.0.0.1:5353:53/udp', '9000'])
    expect(c.volumes).toEqual(['proj_data:/data', `${p.workingDir}/src:/src:ro`, '/anon'])
    expect(c.tmpfs).toEqual(['/scratch:size=1024'])
    expect(c.networks).toHaveLength(1)
    expect(c.networkAliases).toContain('app')
    expect(plan.connect).toHaveLength(1)
    expect([c.networks![0], plan.connect[0]!.network].sort()).toEqual(['proj_back', 'proj_front'])
    const front = c.networks![0] === 'proj_front' ? c.networkAliases : plan.connect[0]!.aliases
    expect(front).toEqual(['app', 'www'])
    expect(c.healthConfig).toEqual({Test: ['CMD', 'true'], Interval: 2_000_000_000, Retries: 4})
    expect(c.ulimits).toEqual(['nofile=1024:2048'])
    expect(c.addHosts).toEqual(['db:10.0.0.2'])
    expect(c.capAdd).toEqual(['NET_ADMIN'])
    expect(c.stopTimeout).toBe(2)
    expect(c.restart).toBe('unless-stopped')
    expect([c.init, c.readOnly, c.user, c.workdir]).toEqual([true, true, '1000', '/src'])
    const labels = Object.fromEntries(c.labels.map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]))
    expect(labels).toMatchObject({
      team: 'core',
      'com.docker.compose.project': 'proj',
      'com.docker.compose.service': 'app',
      'com.docker.compose.container-number': '2',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.config-hash': configHash(svc),
    })
  })

  it('network_mode service:X joins that service\'s container; one-off containers get no service alias or restart', async () => {
    const p = await load(`
services:
  a: {image: x, restart: always}
  b: {image: x, network_mode: "service:a"}
`)
    expect(containerPlan(p, p.services.b!, resolve(p), {number: 1}).create.networks).toEqual(['container:proj-a-1'])
    const one = containerPlan(p, p.services.a!, resolve(p), {number: 1, oneoff: true, name: 'proj-a-run-1', publish: false})
    expect(one.create.networkAliases).toEqual([])
    expect(one.create.restart).toBeUndefined()
    expect(one.create.labels).toContain('com.docker.compose.oneoff=True')
  })

  it('container_name replaces PROJECT-SERVICE-N', async () => {
    const p = await load('services: {a: {image: x, container_name: fixed}}')
    expect(containerName(p, p.services.a!, 1)).toBe('fixed')
  })
})

describe('pieces', () => {
  it('publishSpec, mountSpecs and healthConfig', () => {
    expect(publishSpec({target: 80, protocol: 'tcp', mode: 'ingress'})).toBe('80')
    expect(publishSpec({target: 80, published: '8000-8001', host_ip: '0.0.0.0', protocol: 'tcp', mode: 'ingress'})).toBe('0.0.0.0:8000-8001:80')
    expect(publishSpec({target: 53, host_ip: '127.0.0.1', protocol: 'udp', mode: 'host'})).toBe('127.0.0.1::53/udp')
    expect(mountSpecs([{type: 'bind', source: '/h', target: '/c', read_only: true}], {volume: (k) => k}).volumes).toEqual(['/h:/c:ro'])
    expect(() => mountSpecs([{type: 'npipe', source: 'x', target: '/c', read_only: false}], {volume: (k) => k})).toThrow(/not supported/)
    expect(healthConfig({disable: true})).toEqual({Test: ['NONE']})
    expect(healthConfig({disable: false, interval: 500})).toEqual({Test: [], Interval: 500_000_000})
    expect(healthConfig(undefined)).toBeUndefined()
  })

  it('the config hash changes with the service, not with its scale', async () => {
    const a = await load('services: {s: {image: x, environment: {A: "1"}}}')
    const b = await load('services: {s: {image: x, environment: {A: "1"}, scale: 3}}')
    const c = await load('services: {s: {image: x, environment: {A: "2"}}}')
    expect(configHash(a.services.s!)).toBe(configHash(b.services.s!))
    expect(configHash(a.services.s!)).not.toBe(configHash(c.services.s!))
  })

  it('log prefixes: the short name, padded to the widest, a partial line held until its newline', () => {
    expect(shortName('proj', 'proj-web-1')).toBe('web-1')
    expect(shortName('proj', 'custom')).toBe('custom')
    let out = ''
    const mux = new LogMux(['web-1', 'db-1'], {colour: false, out: (t) => (out += t)})
    const w = mux.writer('web-1')
    const d = mux.writer('db-1')
    w.write('a\nb')
    d.write('x\n')
    w.write('c\n')
    w.write('tail')
    w.end()
    expect(out).toBe('web-1  | a\ndb-1   | x\nweb-1  | bc\nweb-1  | tail\n')
    const coloured = new LogMux(['web-1'], {colour: true, out: () => {}}).prefix('web-1', 0)
    expect(coloured).toBe('\u001b[36mweb-1  |\u001b[0m ')
  })

  it('--scale values', () => {
    expect(parseScale(['web=3', 'db=0'])).toEqual({web: 3, db: 0})
    expect(() => parseScale(['web'])).toThrow(/SERVICE=NUMBER/)
  })

  it('project flags before the subcommand move after it', () => {
    expect(hoistComposeFlags(['compose', '-f', 'a.yml', '-p', 'x', 'up', '-d'])).toEqual(['compose', 'up', '--file', 'a.yml', '--project-name', 'x', '-d'])
    expect(hoistComposeFlags(['compose', '-fa.yml', 'logs', '-f'])).toEqual(['compose', 'logs', '--file=a.yml', '-f'])
    expect(hoistComposeFlags(['compose', '--file=a.yml', '--env-file', 'e', 'exec', 'web', 'sh'])).toEqual(['compose', 'exec', '--file=a.yml', '--env-file', 'e', 'web', 'sh'])
    expect(hoistComposeFlags(['compose', 'up', '-d'])).toEqual(['compose', 'up', '-d'])
    expect(hoistComposeFlags(['compose', '--ansi', 'never', '--progress=plain', '-p', 'x', 'ps'])).toEqual(['compose', 'ps', '--project-name', 'x'])
    expect(hoistComposeFlags(['compose', '--dry-run', 'up'])).toEqual(['compose', '--dry-run', 'up'])
    expect(hoistComposeFlags(['run', '-p', '80', 'x'])).toEqual(['run', '-p', '80', 'x'])
  })
})
