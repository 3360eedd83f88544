/**
 * `ctr-ts compose config` end to end, through the real binary as the unprivileged user: the
 * files found from the working directory upward, the override file, .env interpolation, -f
 * merging, -p, profiles, YAML and JSON output, and the one-line error for an invalid file.
 */
import {mkdirSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {parse} from 'yaml'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'

let t: TempRoot
let n = 0

beforeAll(() => {
  t = tempRoot()
})
afterAll(() => t.cleanup())

/** A fresh project directory (named `name`) with `files`. */
function project(files: Record<string, string>, name = `app${++n}`): string {
  const dir = join(t.home, 'projects', name)
  mkdirSync(dir, {recursive: true})
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(join(dir, rel, '..'), {recursive: true})
    writeFileSync(join(dir, rel), text)
  }
  return dir
}

const config = (args: string[], cwd: string, input?: string) => ctr(['compose', 'config', ...args], {env: t.env, cwd, input})

const STACK = `services:
  web:
    image: "busybox:\${TAG:-latest}"
    command: httpd -f -p 8080
    ports: ["\${WEB_PORT}:8080"]
    volumes: [data:/data, ./static:/static:ro]
    depends_on:
      db: {condition: service_healthy}
    environment: ["GREETING=\${GREETING:-hello}"]
  db:
    image: busybox:1.36
    healthcheck: {test: [CMD, "true"], interval: 2s}
  debug:
    image: busybox
    profiles: [debug]
volumes:
  data: {}
`

describe('ctr-ts compose config (real binary)', () => {
  it('prints the resolved model as YAML: .env interpolation, override file, directory name, long syntax', async () => {
    const dir = project(
      {'compose.yaml': STACK, 'compose.override.yaml': 'services:\n  web:\n    environment: {EXTRA: "1"}\n', '.env': 'TAG=1.36\nWEB_PORT=8081\n', 'sub/.keep': ''},
      'My.Project',
    )
    const r = await config([], join(dir, 'sub'))
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const doc = parse(r.stdout) as Record<string, any>
    expect(doc.name).toBe('myproject')
    expect(Object.keys(doc.services)).toEqual(['db', 'web'])
    expect(doc.services.web).toMatchObject({
      image: 'busybox:1.36',
      command: ['httpd', '-f', '-p', '8080'],
      ports: [{mode: 'ingress', target: 8080, published: '8081', protocol: 'tcp'}],
      volumes: [{type: 'volume', source: 'data', target: '/data'}, {type: 'bind', source: join(dir, 'static'), target: '/static', read_only: true}],
      depends_on: {db: {condition: 'service_healthy', required: true}},
      environment: {GREETING: 'hello', EXTRA: '1'},
      networks: {default: null},
    })
    expect(doc.services.db.healthcheck).toEqual({test: ['CMD', 'true'], interval: '2s'})
    expect(doc.networks).toEqual({default: {name: 'myproject_default'}})
    expect(doc.volumes).toEqual({data: {name: 'myproject_data'}})
  })

  it('merges -f files in order, takes -p, --env-file, --profile, and prints JSON', async () => {
    const dir = project({'compose.yaml': STACK, 'prod.yaml': 'services:\n  web:\n    ports: !override ["80:8080"]\n', 'prod.env': 'TAG=musl\nWEB_PORT=1\n'})
    const r = await config(['-f', 'compose.yaml', '-f', 'prod.yaml', '-p', 'shop', '--env-file', 'prod.env', '--profile', 'debug', '--format', 'json'], dir)
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const doc = JSON.parse(r.stdout) as Record<string, any>
    expect(doc.name).toBe('shop')
    expect(Object.keys(doc.services)).toEqual(['db', 'debug', 'web'])
    expect(doc.services.web.image).toBe('busybox:musl')
    expect(doc.services.web.ports).toEqual([{mode: 'ingress', target: 8080, published: '80', protocol: 'tcp'}])
  })

  it('lists services, volumes and profiles; -q prints nothing', async () => {
    const dir = project({'compose.yaml': STACK, '.env': 'WEB_PORT=8080\n'})
    expect((await config(['--services'], dir)).stdout).toBe('web\ndb\n')
    expect((await config(['--volumes'], dir)).stdout).toBe('data\n')
    expect((await config(['--profiles'], dir)).stdout).toBe('debug\n')
    const vars = await config(['--variables'], dir)
    expect(vars.stdout).toMatch(/^NAME +REQUIRED +DEFAULT VALUE +ALTERNATE VALUE\nTAG +false +latest\nWEB_PORT +false\nGREETING +false +hello\n$/)
    expect((await config(['--environment'], dir)).stdout).toContain('\nWEB_PORT=8080\n')
    const q = await config(['-q'], dir)
    expect(q).toMatchObject({exitCode: 0, stdout: '', stderr: ''})
  })

  it('reads the file from stdin with -f -', async () => {
    const dir = project({})
    const r = await config(['-f', '-', '--services'], dir, 'services:\n  one: {image: busybox}\n')
    expect(r).toMatchObject({exitCode: 0, stdout: 'one\n'})
  })

  it('warns about an unset variable on stderr and goes on', async () => {
    const dir = project({'compose.yaml': STACK})
    const r = await config(['--services'], dir)
    expect(r.exitCode).toBe(0)
    expect(r.stderr).toBe('WARNING: The "WEB_PORT" variable is not set. Defaulting to a blank string.\n')
  })

  it('gives an invalid file one line naming the file, the path and the problem, and exits 1', async () => {
    const cases: Array<[string, string]> = [
      ['services:\n  web:\n    image: busybox\n    ports: [true]\n', 'ctr-ts: compose.yaml: services.web.ports[0]: must be a number, a string or an object\n'],
      ['services:\n  web:\n    image: busybox\n    restrat: always\n', 'ctr-ts: compose.yaml: services.web: additional property "restrat" is not allowed (did you mean "restart"?)\n'],
      ['services:\n  web:\n    image: "${IMAGE:?set IMAGE first}"\n', 'ctr-ts: compose.yaml: services.web.image: required variable IMAGE is missing a value: set IMAGE first\n'],
      ['services:\n  web:\n    image: busybox\n    depends_on: [db]\n', 'ctr-ts: compose.yaml: services.web.depends_on: depends on undefined service "db"\n'],
      ['services:\n  web:\n\timage: busybox\n', 'ctr-ts: compose.yaml: line 3, column 1: Tabs are not allowed as indentation\n'],
      ['services:\n  web:\n    image: busybox\n    ports: ["80:http"]\n', 'ctr-ts: compose.yaml: services.web.ports[0]: invalid port "80:http": container port "http" is not a port number or range\n'],
    ]
    for (const [yaml, line] of cases) {
      const r = await config([], project({'compose.yaml': yaml}))
      expect(r.stderr, yaml).toBe(line)
      expect(r.stdout).toBe('')
      expect(r.exitCode).toBe(1)
    }
  })

  it('names the override file when the error is in it', async () => {
    const dir = project({'compose.yaml': 'services:\n  web: {image: busybox}\n', 'compose.override.yaml': 'services:\n  web:\n    healthcheck: {retries: many}\n'})
    const r = await config([], dir)
    expect(r.stderr).toBe('ctr-ts: compose.override.yaml: services.web.healthcheck.retries: "many" is not an integer\n')
    expect(r.exitCode).toBe(1)
  })

  it('says when there is no compose file, and refuses a bad project name', async () => {
    const none = await config([], project({}))
    expect(none).toMatchObject({exitCode: 1, stdout: '', stderr: 'ctr-ts: no configuration file provided: not found\n'})
    const bad = await config(['-p', 'Bad Name'], project({'compose.yaml': 'services:\n  web: {image: busybox}\n'}))
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr).toMatch(/^ctr-ts: invalid project name "Bad Name" \(-p\): .+\n$/)
  })
})
