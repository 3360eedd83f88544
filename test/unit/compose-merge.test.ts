import {describe, expect, it} from 'vitest'
import {load} from './compose-helpers.js'

const two = (base: string, override: string) => load({'compose.yaml': base, 'compose.override.yaml': override})

describe('merging compose files', () => {
  it('merges mappings key by key, the later file winning', async () => {
    const p = await two('services:\n  web: {image: a, user: root, labels: {x: "1", y: "1"}}\n', 'services:\n  web: {image: b, labels: [y=2, z=3]}\n  new: {image: n}\n')
    expect(p.services.web).toMatchObject({image: 'b', user: 'root', labels: {x: '1', y: '2', z: '3'}})
    expect(Object.keys(p.services)).toEqual(['web', 'new'])
    expect(p.composeFiles).toEqual([`${p.dir}/compose.yaml`, `${p.dir}/compose.override.yaml`])
  })

  it('merges environment given as a list in one file and a map in the other', async () => {
    const p = await two('services:\n  web: {image: a, environment: [A=1, B=1]}\n', 'services:\n  web: {environment: {B: 2, C: 3}}\n')
    expect(p.services.web!.environment).toEqual({A: '1', B: '2', C: '3'})
  })

  it('replaces command, entrypoint and healthcheck.test', async () => {
    const p = await two(
      'services:\n  web: {image: a, command: [echo, a, b], entrypoint: [sh, -c], healthcheck: {test: [CMD, a], retries: 2}}\n',
      'services:\n  web: {command: echo c, entrypoint: [bash], healthcheck: {test: [CMD, b]}}\n',
    )
    expect(p.services.web).toMatchObject({command: ['echo', 'c'], entrypoint: ['bash'], healthcheck: {test: ['CMD', 'b'], retries: 2}})
  })

  it('appends sequences, each plain value once', async () => {
    const p = await two('services:\n  web: {image: a, dns: [1.1.1.1], cap_add: [NET_ADMIN], expose: [80]}\n', 'services:\n  web: {dns: [8.8.8.8, 1.1.1.1], cap_add: [SYS_TIME], expose: ["80", 81]}\n')
    expect(p.services.web).toMatchObject({dns: ['1.1.1.1', '8.8.8.8'], cap_add: ['NET_ADMIN', 'SYS_TIME'], expose: ['80', '81']})
  })

  it('merges ports by {ip, target, published, protocol} and volumes by target', async () => {
    const p = await two(
      'services:\n  web: {image: a, ports: ["8080:80", "443:443"], volumes: ["foo:/work", "/cache"]}\nvolumes: {foo: {}, bar: {}}\n',
      'services:\n  web: {ports: ["8080:80", "9090:90"], volumes: ["bar:/work", "./src:/src"]}\n',
    )
    expect(p.services.web!.ports.map((x) => `${x.published}:${x.target}`)).toEqual(['8080:80', '443:443', '9090:90'])
    expect(p.services.web!.volumes.map((v) => `${v.source ?? ''}:${v.target}`)).toEqual(['bar:/work', ':/cache', `${p.dir}/src:/src`])
  })

  it('merges depends_on, networks and top-level sections', async () => {
    const p = await two(
      'services:\n  web: {image: a, depends_on: [db], networks: [front]}\n  db: {image: d}\n  cache: {image: c}\nnetworks: {front: {}}\n',
      'services:\n  web: {depends_on: {cache: {condition: service_healthy}}, networks: {front: {aliases: [w]}, back: {}}}\nnetworks: {back: {internal: true}}\n',
    )
    expect(Object.keys(p.services.web!.depends_on)).toEqual(['db', 'cache'])
    expect(p.services.web!.depends_on.cache!.condition).toBe('service_healthy')
    expect(p.services.web!.networks).toEqual({front: {aliases: ['w'], link_local_ips: []}, back: {aliases: [], link_local_ips: []}})
    expect(Object.keys(p.networks)).toEqual(['front', 'back', 'default'])
  })

  it('applies !reset and !override', async () => {
    const p = await two(
      'services:\n  web: {image: a, ports: ["80:80", "443:443"], environment: {A: "1", B: "1"}, user: root, dns: [1.1.1.1]}\n',
      'services:\n  web:\n    ports: !override ["8080:80"]\n    environment: !reset {}\n    user: !reset null\n    dns: !reset []\n',
    )
    expect(p.services.web!.ports.map((x) => x.published)).toEqual(['8080'])
    expect(p.services.web!.environment).toEqual({})
    expect(p.services.web!.user).toBeUndefined()
    expect(p.services.web!.dns).toEqual([])
  })

  it('replaces logging when the driver changes, merges its options otherwise', async () => {
    const same = await two('services:\n  web: {image: a, logging: {driver: json-file, options: {max-size: 1m}}}\n', 'services:\n  web: {logging: {options: {max-file: "3"}}}\n')
    expect(same.services.web!.logging).toEqual({driver: 'json-file', options: {'max-size': '1m', 'max-file': '3'}})
    const other = await two('services:\n  web: {image: a, logging: {driver: json-file, options: {max-size: 1m}}}\n', 'services:\n  web: {logging: {driver: none}}\n')
    expect(other.services.web!.logging).toEqual({driver: 'none', options: {}})
  })

  it('merges -f files in the order given; paths resolve against the first file\'s directory', async () => {
    const p = await load(
      {'base/compose.yaml': 'services:\n  web: {image: a, volumes: [./data:/data]}\n', 'other/extra.yaml': 'services:\n  web: {image: b, env_file: vars.env}\n', 'base/vars.env': 'V=1\n'},
      {files: ['base/compose.yaml', 'other/extra.yaml']},
    )
    expect(p.workingDir).toBe(`${p.dir}/base`)
    expect(p.services.web).toMatchObject({image: 'b', environment: {V: '1'}, volumes: [{type: 'bind', source: `${p.dir}/base/data`}]})
  })

  it('merges the YAML documents of one file in order', async () => {
    const p = await load({'compose.yaml': 'services:\n  web: {image: a, environment: {A: "1"}}\n---\nname: multi\nservices:\n  web: {environment: {B: "2"}}\n  db: {image: d}\n'})
    expect(p.name).toBe('multi')
    expect(p.services.web).toMatchObject({image: 'a', environment: {A: '1', B: '2'}})
    expect(Object.keys(p.services)).toEqual(['web', 'db'])
  })

  it('follows YAML anchors, aliases and merge keys', async () => {
    const p = await load({'compose.yaml': 'x-base: &base\n  image: busybox\n  environment: {A: "1"}\nservices:\n  a:\n    <<: *base\n    environment: {B: "2"}\n  b: *base\n'})
    expect(p.services.a).toMatchObject({image: 'busybox', environment: {B: '2'}})
    expect(p.services.b).toMatchObject({image: 'busybox', environment: {A: '1'}})
  })
})

describe('extends and include', () => {
  it('extends a service of the same file, the service\'s own attributes merged over the base', async () => {
    const p = await load({
      'compose.yaml': `services:
  base: {image: busybox, environment: {A: "1", B: "1"}, command: [sleep, "1"], ports: ["80:80"]}
  mid: {extends: base, environment: {B: "2"}}
  web: {extends: {service: mid}, command: [sleep, "2"], ports: ["81:81"]}
`,
    })
    expect(p.services.web).toMatchObject({image: 'busybox', environment: {A: '1', B: '2'}, command: ['sleep', '2']})
    expect(p.services.web!.ports.map((x) => x.published)).toEqual(['80', '81'])
    expect(p.services.web!.extras).toEqual({})
  })

  it('extends a service of another file, its relative paths against that file\'s directory', async () => {
    const p = await load({
      'compose.yaml': 'services:\n  web: {extends: {file: common/base.yaml, service: app}, environment: {OWN: "1"}}\n',
      'common/base.yaml': 'services:\n  app: {image: "busybox:${TAG:-x}", volumes: [./data:/data], env_file: app.env}\n',
      'common/app.env': 'FROM_FILE=1\n',
    })
    expect(p.services.web).toMatchObject({image: 'busybox:x', environment: {FROM_FILE: '1', OWN: '1'}})
    expect(p.services.web!.volumes[0]!.source).toBe(`${p.dir}/common/data`)
    expect(Object.keys(p.services)).toEqual(['web'])
  })

  it('refuses a missing base service and cycles', async () => {
    await expect(load({'compose.yaml': 'services:\n  web: {extends: nope}\n'})).rejects.toThrow('compose.yaml: services.web.extends: cannot extend service "nope": no such service')
    await expect(load({'compose.yaml': 'services:\n  a: {image: x, extends: b}\n  b: {image: x, extends: a}\n'})).rejects.toThrow(/extends cycle: (a -> b -> a|b -> a -> b)/)
  })

  it('includes other compose files as their own projects', async () => {
    const p = await load({
      'compose.yaml': 'include:\n  - db/compose.yaml\nservices:\n  web: {image: w, depends_on: [db]}\n',
      'db/compose.yaml': 'services:\n  db: {image: "postgres:${PG}", volumes: [./init:/init]}\nvolumes: {pg: {}}\n',
      'db/.env': 'PG=16\n',
    })
    expect(Object.keys(p.services)).toEqual(['db', 'web'])
    expect(p.services.db).toMatchObject({image: 'postgres:16', volumes: [{type: 'bind', source: `${p.dir}/db/init`}]})
    expect(p.volumes.pg!.name).toBe('app_pg')
  })

  it('refuses an included resource the including file defines too', async () => {
    await expect(load({'compose.yaml': 'include: [other.yaml]\nservices:\n  web: {image: w}\n', 'other.yaml': 'services:\n  web: {image: o}\n'})).rejects.toThrow(
      'compose.yaml: services.web: conflicts with the service "web" of an included file',
    )
  })
})
