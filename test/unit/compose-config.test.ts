import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {goDuration, projectDocument, projectJson, projectYaml} from '../../src/compose/model/serialize.js'
import {load} from './compose-helpers.js'

const full = readFileSync(join(import.meta.dirname, 'fixtures', 'compose-full.yaml'), 'utf8')

describe('the resolved model as compose config prints it', () => {
  it('formats durations as Go does', () => {
    expect([0, 500, 1000, 1500, 90_000, 3_600_000, 3_661_000].map(goDuration)).toEqual(['0s', '500ms', '1s', '1.5s', '1m30s', '1h0m0s', '1h1m1s'])
  })

  it('loads a file with every attribute of the issue', async () => {
    const p = await load({'compose.yaml': full})
    expect(p.name).toBe('full')
    expect(Object.keys(p.services)).toEqual(['web', 'db', 'migrate', 'worker'])
    const web = p.services.web!
    expect(web).toMatchObject({
      restart: 'unless-stopped', scale: 2, entrypoint: ['/bin/sh', '-c'], environment: {MODE: 'production', EMPTY: null},
      depends_on: {db: {condition: 'service_healthy', required: true, restart: true}, migrate: {condition: 'service_completed_successfully', required: true, restart: false}},
      extra_hosts: ['gateway:host-gateway', 'db.local:10.0.0.5'], stop_grace_period: 90_000, shm_size: 64 * 1024 * 1024,
    })
    expect(web.ports).toHaveLength(4)
    expect(web.volumes.map((v) => v.type)).toEqual(['volume', 'bind', 'volume', 'tmpfs', 'bind'])
    expect(p.services.db).toMatchObject({network_mode: 'bridge', networks: {}, container_name: 'full-db'})
    expect(p.services.worker!.build).toMatchObject({context: `${p.dir}/worker`, dockerfile: 'Containerfile', args: {VERSION: '1'}})
    expect(p.networks.outside).toMatchObject({name: 'host-net', external: true})
  })

  it('prints YAML that loads back to the same model', async () => {
    const p = await load({'compose.yaml': full})
    const yaml = projectYaml(p)
    expect(parse(yaml)).toEqual(projectDocument(p))
    expect(yaml).toMatch(/^name: full\nservices:\n {2}db:\n/)
    expect(yaml).toContain('published: "8080"')
    expect(yaml).toContain('interval: 30s')
    expect(JSON.parse(projectJson(p))).toEqual(projectDocument(p))
    const again = await load({'compose.yaml': yaml})
    expect(again.services).toEqual(p.services)
    expect(again.networks).toEqual(p.networks)
    expect(again.volumes).toEqual(p.volumes)
  })

  it('shows the default network and real names', async () => {
    const p = await load({'compose.yaml': 'services:\n  web: {image: x}\nvolumes: {data: {}}\n'}, {projectName: 'demo'})
    expect(projectDocument(p)).toEqual({
      name: 'demo',
      services: {web: {image: 'x', networks: {default: null}}},
      networks: {default: {name: 'demo_default'}},
      volumes: {data: {name: 'demo_data'}},
    })
  })
})
