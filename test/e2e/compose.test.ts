/**
 * `ctr-ts compose` end to end, as the unprivileged user through the real binary, with real
 * multi-service files made from the fixture images (the images themselves come through `.env`
 * interpolation): a web service reaching its backend by service name over a user-defined network,
 * depends_on service_healthy holding a service until the healthcheck passes, docker compose's
 * labels, `up` twice recreating nothing and a changed service recreated, named volumes across
 * down/up and gone with `down -v`, --scale, attached `up` stopped by Ctrl-C, exec/run/ps/logs,
 * and nothing left after `down`.
 */
import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {connect} from 'node:net'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, type CtrResult, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {footprint} from '../harness/leaks.js'
import {waitFor} from '../harness/proc.js'
import {freePort} from '../harness/registry.js'

let t: TempRoot
let web: string
let busybox: string
let dirs: string
const env = () => t.env

beforeAll(async () => {
  t = tempRoot()
  dirs = mkdtempSync(join(tmpdir(), 'ctr-ts-compose-'))
  web = testEnv().fixtures.web!.ref
  busybox = testEnv().fixtures.busybox!.ref
  for (const ref of [web, busybox]) expect((await ctr(['pull', '-q', ref], {env: env()})).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
  if (dirs) rmSync(dirs, {recursive: true, force: true})
})

function httpBody(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const sock = connect({host: '127.0.0.1', port})
    let data = ''
    sock.setEncoding('utf8')
    sock.setTimeout(5000, () => sock.destroy())
    sock.on('connect', () => sock.write('GET / HTTP/1.0\r\nHost: x\r\n\r\n'))
    sock.on('data', (d: string) => (data += d))
    sock.on('close', () => {
      const i = data.indexOf('\r\n\r\n')
      resolve(i >= 0 ? data.slice(i + 4) : undefined)
    })
    sock.on('error', () => undefined)
  })
}

/** A project directory named `name` (the project name) with these files. */
function project(name: string, files: Record<string, string>): string {
  const dir = join(dirs, name)
  mkdirSync(dir, {recursive: true})
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text)
  return dir
}

const compose = (dir: string, args: string[], timeoutMs = 120_000): Promise<CtrResult> => ctr(['compose', ...args], {env: env(), cwd: dir, timeoutMs})

async function ok(dir: string, args: string[], timeoutMs?: number): Promise<CtrResult> {
  const r = await compose(dir, args, timeoutMs)
  expect(r.exitCode, `compose ${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r
}

interface Inspected {
  Id: string
  Name: string
  State: {Status: string; StartedAt: string; Health?: {Status: string; Log: Array<{End: string; ExitCode: number}>}}
  Config: {Labels: Record<string, string>; Env: string[]}
  NetworkSettings: {Networks: Record<string, {Aliases: string[]}>}
}

async function inspect(name: string): Promise<Inspected> {
  const r = await ctr(['inspect', name], {env: env()})
  expect(r.exitCode, r.stderr).toBe(0)
  return (JSON.parse(r.stdout) as Inspected[])[0]!
}

async function ids(dir: string, extra: string[] = []): Promise<string[]> {
  return (await ok(dir, ['ps', '-a', '-q', '--no-trunc', ...extra])).stdout.split('\n').filter(Boolean).sort()
}

/** Everything of the store on the machine: no process, mount or fd may remain once all is down. */
async function nothingRunning(): Promise<void> {
  await waitFor(() => footprint(t.root, t.runRoot).processes.length === 0, 15_000)
  const f = footprint(t.root, t.runRoot)
  expect(f.processes.join('\n')).toBe('')
  expect(f.mounts).toEqual([])
}

describe('compose: a web service and its backend', () => {
  let dir: string
  const file = () => `
services:
  backend:
    image: \${WEB_IMAGE}
    # serves only once it is ready: a client started before the healthcheck passes gets nothing
    command: ["sh", "-c", "sleep 2; touch /tmp/ready; exec httpd -f -p 80 -h /www"]
    healthcheck:
      test: ["CMD-SHELL", "test -e /tmp/ready"]
      interval: 500ms
      retries: 30
    networks:
      back:
        aliases: [api]
    labels:
      tier: backend
  web:
    image: \${BB_IMAGE}
    command: sh -c 'wget -q -O - http://backend/ && wget -q -O - http://api/ && echo "greeting=$$GREETING" && exec sleep 1000'
    stop_signal: SIGKILL
    environment:
      GREETING: \${GREETING:-none}
    depends_on:
      backend:
        condition: service_healthy
    networks: [back]
networks:
  back: {}
`

  beforeAll(() => {
    dir = project('webstack', {'compose.yaml': file(), '.env': `WEB_IMAGE=${web}\nBB_IMAGE=${busybox}\nGREETING=from-dotenv\n`})
  })

  it('up -d: the backend is healthy before web starts; web reaches it by service name and alias', async () => {
    const up = await ok(dir, ['up', '-d'])
    expect(up.stderr).toMatch(/Network webstack_back {2}Created/)
    expect(up.stderr).toMatch(/Container webstack-backend-1 {2}Healthy[\s\S]*Container webstack-web-1 {2}Started/)
    const backend = await inspect('webstack-backend-1')
    const webC = await inspect('webstack-web-1')
    const firstPass = backend.State.Health!.Log.find((l) => l.ExitCode === 0)!
    expect(Date.parse(webC.State.StartedAt)).toBeGreaterThanOrEqual(Date.parse(firstPass.End) - 1)
    const logs = await waitFor(async () => (await compose(dir, ['logs', 'web'])).stdout.includes('greeting='), 20_000)
    expect(logs).toBe(true)
    const out = (await ok(dir, ['logs', 'web'])).stdout
    expect(out).toBe('web-1  | hello from ctr-ts\nweb-1  | hello from ctr-ts\nweb-1  | greeting=from-dotenv\n')
  }, 180_000)

  it("puts docker compose's labels on containers and networks; the service name is a network alias", async () => {
    const c = await inspect('webstack-web-1')
    expect(c.Config.Labels).toMatchObject({
      'com.docker.compose.project': 'webstack',
      'com.docker.compose.service': 'web',
      'com.docker.compose.container-number': '1',
      'com.docker.compose.oneoff': 'False',
      'com.docker.compose.project.working_dir': dir,
      'com.docker.compose.project.config_files': join(dir, 'compose.yaml'),
    })
    expect(c.Config.Labels['com.docker.compose.config-hash']).toMatch(/^[0-9a-f]{64}$/)
    expect(c.Config.Labels['com.docker.compose.version']).toBeTruthy()
    const b = await inspect('webstack-backend-1')
    expect(b.Config.Labels.tier).toBe('backend')
    expect(b.NetworkSettings.Networks.webstack_back!.Aliases).toEqual(expect.arrayContaining(['backend', 'api']))
    const net = JSON.parse((await ctr(['network', 'inspect', 'webstack_back'], {env: env()})).stdout) as Array<{Labels: Record<string, string>}>
    expect(net[0]!.Labels).toMatchObject({'com.docker.compose.project': 'webstack', 'com.docker.compose.network': 'back'})
    // docker's ps filter finds them by label
    const byLabel = await ctr(['ps', '--filter', 'label=com.docker.compose.service=backend', '--format', '{{.Names}}'], {env: env()})
    expect(byLabel.stdout).toBe('webstack-backend-1\n')
  }, 60_000)

  it('ps, ls, exec, run --rm, port-less services', async () => {
    const rows = (await ok(dir, ['ps', '--format', 'json'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as {Name: string; Service: string; State: string; Health: string})
    expect(rows.map((r) => [r.Name, r.Service, r.State])).toEqual([
      ['webstack-backend-1', 'backend', 'running'],
      ['webstack-web-1', 'web', 'running'],
    ])
    expect(rows[0]!.Health).toBe('healthy')
    expect((await ok(dir, ['ps', '--services'])).stdout).toBe('backend\nweb\n')
    expect((await ok(dir, ['ps'])).stdout).toMatch(/^NAME\s+IMAGE\s+COMMAND\s+SERVICE\s+CREATED\s+STATUS\s+PORTS\n/)
    const ls = await ok(dir, ['ls'])
    expect(ls.stdout).toMatch(/^webstack\s+running\(2\)\s+\S*compose\.yaml$/m)
    const ex = await ok(dir, ['exec', '-T', 'web', 'sh', '-c', 'echo $GREETING'])
    expect(ex.stdout).toBe('from-dotenv\n')
    const code = await compose(dir, ['exec', '-T', 'web', 'sh', '-c', 'exit 3'])
    expect(code.exitCode).toBe(3)
    const one = await ok(dir, ['run', '--rm', '-T', '--no-deps', 'web', 'wget', '-q', '-O', '-', 'http://backend/'])
    expect(one.stdout).toBe('hello from ctr-ts\n')
    // without --no-deps its dependencies are brought up (already running: kept) and waited for
    const withDeps = await ok(dir, ['run', '--rm', '-T', '-e', 'X=1', 'web', 'sh', '-c', 'echo $X $GREETING'])
    expect(withDeps.stdout).toBe('1 from-dotenv\n')
    expect(withDeps.stderr).toMatch(/Container webstack-backend-1 {2}Healthy/)
    // the one-off containers are gone, and were no service containers
    expect((await ids(dir)).length).toBe(2)
    const missing = await compose(dir, ['exec', '-T', 'nope', 'true'])
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toMatch(/no such service: nope/)
  }, 120_000)

  it('up again without changes recreates nothing; a changed service is recreated, the others kept', async () => {
    const before = await ids(dir)
    const again = await ok(dir, ['up', '-d'])
    expect(again.stderr).not.toMatch(/Recreate|Created/)
    expect(again.stderr).toMatch(/Container webstack-web-1 {2}Running/)
    expect(await ids(dir)).toEqual(before)

    const backendId = (await inspect('webstack-backend-1')).Id
    const webId = (await inspect('webstack-web-1')).Id
    writeFileSync(join(dir, '.env'), `WEB_IMAGE=${web}\nBB_IMAGE=${busybox}\nGREETING=changed\n`)
    const changed = await ok(dir, ['up', '-d'])
    expect(changed.stderr).toMatch(/Container webstack-web-1 {2}Recreated/)
    expect((await inspect('webstack-backend-1')).Id).toBe(backendId)
    const newWeb = await inspect('webstack-web-1')
    expect(newWeb.Id).not.toBe(webId)
    expect(newWeb.Config.Env).toContain('GREETING=changed')

    const forced = await ok(dir, ['up', '-d', '--force-recreate', '--no-deps', 'web'])
    expect(forced.stderr).toMatch(/Container webstack-web-1 {2}Recreated/)
    expect(forced.stderr).not.toMatch(/backend/)
  }, 180_000)

  it('down removes the containers, the network and every process', async () => {
    const down = await ok(dir, ['down', '-t', '1'])
    expect(down.stderr).toMatch(/Network webstack_back {2}Removed/)
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout).toBe('')
    expect((await ctr(['network', 'ls', '-q', '--filter', 'type=custom'], {env: env()})).stdout).toBe('')
    expect((await ok(dir, ['ls', '-a'])).stdout).not.toMatch(/webstack/)
    await nothingRunning()
  }, 120_000)
})

describe('compose: volumes, scale, dependencies that complete', () => {
  let dir: string
  beforeAll(() => {
    dir = project('datastack', {
      'compose.yaml': `
services:
  init:
    image: ${busybox}
    command: sh -c 'echo init ran >> /data/init.log'
    volumes: [data:/data]
  store:
    image: ${busybox}
    command: sh -c 'echo started >> /data/runs; exec sleep 1000'
    stop_signal: SIGKILL
    volumes:
      - type: volume
        source: data
        target: /data
    depends_on:
      init:
        condition: service_completed_successfully
  worker:
    image: ${busybox}
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
volumes:
  data: {}
`,
    })
  })

  it('a named volume keeps its data across down and up, and goes with down -v', async () => {
    await ok(dir, ['up', '-d', 'store'])
    expect((await ok(dir, ['exec', '-T', 'store', 'cat', '/data/runs', '/data/init.log'])).stdout).toBe('started\ninit ran\n')
    const vols = await ctr(['volume', 'ls', '--format', '{{.Name}} {{.Labels}}'], {env: env()})
    expect(vols.stdout).toMatch(/^datastack_data .*com\.docker\.compose\.volume=data/m)
    await ok(dir, ['down'])
    expect((await ctr(['volume', 'ls', '-q'], {env: env()})).stdout).toBe('datastack_data\n')
    await ok(dir, ['up', '-d', 'store'])
    expect((await ok(dir, ['exec', '-T', 'store', 'cat', '/data/runs'])).stdout).toBe('started\nstarted\n')
    await ok(dir, ['down', '-v'])
    expect((await ctr(['volume', 'ls', '-q'], {env: env()})).stdout).toBe('')
    await ok(dir, ['up', '-d', 'store'])
    expect((await ok(dir, ['exec', '-T', 'store', 'cat', '/data/runs'])).stdout).toBe('started\n')
  }, 180_000)

  it('a dependency that fails stops up with the reason', async () => {
    const bad = project('failstack', {
      'compose.yaml': `
services:
  first:
    image: ${busybox}
    command: ["sh", "-c", "exit 4"]
  second:
    image: ${busybox}
    command: ["true"]
    depends_on:
      first: {condition: service_completed_successfully}
`,
    })
    const r = await compose(bad, ['up', '-d'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/service "first" didn't complete successfully: exit 4/)
    expect((await ctr(['ps', '-a', '--filter', 'label=com.docker.compose.service=second', '-q'], {env: env()})).stdout).toBe('')
    await ok(bad, ['down'])
  }, 120_000)

  it('--scale runs N containers PROJECT-SERVICE-i, and scales down again', async () => {
    await ok(dir, ['up', '-d', '--scale', 'worker=3', 'worker'])
    const names = (await ok(dir, ['ps', '--format', '{{.Name}}', 'worker'])).stdout
    expect(names).toBe('datastack-worker-1\ndatastack-worker-2\ndatastack-worker-3\n')
    expect((await ok(dir, ['exec', '-T', '--index', '3', 'worker', 'hostname'])).exitCode).toBe(0)
    const down1 = await ok(dir, ['up', '-d', '--scale', 'worker=1', 'worker'])
    expect(down1.stderr).toMatch(/Container datastack-worker-3 {2}Removed/)
    expect((await ok(dir, ['ps', '--format', '{{.Name}}', 'worker'])).stdout).toBe('datastack-worker-1\n')
    await ok(dir, ['down', '-v'])
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout).toBe('')
    expect((await ctr(['volume', 'ls', '-q'], {env: env()})).stdout).toBe('')
    expect((await ctr(['network', 'ls', '-q', '--filter', 'type=custom'], {env: env()})).stdout).toBe('')
    await nothingRunning()
  }, 180_000)
})

describe('compose: attached up', () => {
  it('multiplexes the logs with service-N prefixes and stops the stack on Ctrl-C', async () => {
    const dir = project('attached', {
      'compose.yaml': `
services:
  ticker:
    image: ${busybox}
    command: sh -c 'trap "echo bye; exit 0" TERM; while true; do echo tick; sleep 0.3; done'
  once:
    image: ${busybox}
    command: echo done once
`,
    })
    const child = ctrSpawn(['compose', 'up'], {env: env(), cwd: dir})
    let stdout = ''
    let stderr = ''
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)))
    expect(await waitFor(() => stdout.includes('ticker-1  | tick') && stdout.includes('once-1    | done once'), 60_000)).toBe(true)
    expect(await waitFor(() => stdout.includes('once-1 exited with code 0'), 20_000)).toBe(true)
    child.kill('SIGINT')
    const code = await exited
    expect(code).toBe(130)
    expect(stderr).toMatch(/Gracefully stopping/)
    expect(stdout).toMatch(/ticker-1 {2}\| bye/)
    const rows = (await ok(dir, ['ps', '-a', '--format', '{{.Name}} {{.State}}'])).stdout
    expect(rows).toBe('attached-once-1 exited\nattached-ticker-1 exited\n')
    await ok(dir, ['down'])
    await nothingRunning()
  }, 120_000)
})

describe('compose: build, --wait, flags before the subcommand, files', () => {
  it('builds a build: service with the builder of `ctr-ts build`, and --build rebuilds it', async () => {
    const dir = project('buildstack', {
      'compose.yaml': `
services:
  app:
    build:
      context: ./app
      args: {WORD: first}
    command: ["sh", "-c", "cat /built; exec sleep 1000"]
    stop_signal: SIGKILL
`,
    })
    mkdirSync(join(dir, 'app'), {recursive: true})
    writeFileSync(join(dir, 'app', 'Dockerfile'), `FROM ${busybox}\nARG WORD\nRUN echo "built $WORD" > /built\n`)
    const up = await ok(dir, ['up', '-d'], 180_000)
    expect(up.stderr).toMatch(/Service app {2}Built/)
    expect((await ok(dir, ['exec', '-T', 'app', 'cat', '/built'])).stdout).toBe('built first\n')
    const images = await ctr(['images', '--format', '{{.Repository}}:{{.Tag}}'], {env: env()})
    expect(images.stdout).toMatch(/^buildstack-app:latest$/m)
    // the image is there: a second up builds nothing and recreates nothing
    const again = await ok(dir, ['up', '-d'])
    expect(again.stderr).not.toMatch(/Built|Recreate/)
    // a changed Dockerfile with --build: a new image, so the container is recreated
    writeFileSync(join(dir, 'app', 'Dockerfile'), `FROM ${busybox}\nARG WORD\nRUN echo "rebuilt $WORD" > /built\n`)
    const rebuilt = await ok(dir, ['up', '-d', '--build'], 180_000)
    expect(rebuilt.stderr).toMatch(/Container buildstack-app-1 {2}Recreated/)
    expect((await ok(dir, ['exec', '-T', 'app', 'cat', '/built'])).stdout).toBe('rebuilt first\n')
    await ok(dir, ['down', '--rmi', 'local'])
    expect((await ctr(['images', '--format', '{{.Repository}}'], {env: env()})).stdout).not.toMatch(/buildstack-app/)
  }, 300_000)

  it('-f and -p before the subcommand, --wait returns once healthy, ports published, down -p needs no file', async () => {
    const port = await freePort()
    const dir = project('elsewhere', {
      'stack.yml': `
services:
  svc:
    image: ${web}
    ports: ["127.0.0.1:${port}:80"]
    stop_grace_period: 1s
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 500ms
      start_period: 10s
`,
    })
    const up = await ctr(['compose', '-f', join(dir, 'stack.yml'), '-p', 'named', 'up', '--wait'], {env: env(), timeoutMs: 120_000})
    expect(up.exitCode, up.stderr).toBe(0)
    expect(up.stderr).toMatch(/Container named-svc-1 {2}Healthy/)
    const health = await ctr(['inspect', '-f', '{{.State.Health.Status}}', 'named-svc-1'], {env: env()})
    expect(health.stdout).toBe('healthy\n')
    expect(await httpBody(port)).toBe('hello from ctr-ts\n')
    expect((await ctr(['compose', '-p', 'named', '-f', join(dir, 'stack.yml'), 'port', 'svc', '80'], {env: env()})).stdout).toBe(`127.0.0.1:${port}\n`)
    expect((await ctr(['compose', '-p', 'named', '-f', join(dir, 'stack.yml'), 'ps', '-q'], {env: env()})).stdout.trim()).toMatch(/^[0-9a-f]{12}$/)
    // no compose file where this runs: the labels say what belongs to the project
    const down = await ctr(['compose', '-p', 'named', 'down'], {env: env(), cwd: dirs})
    expect(down.exitCode, down.stderr).toBe(0)
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout).toBe('')
    expect((await ctr(['network', 'ls', '-q', '--filter', 'type=custom'], {env: env()})).stdout).toBe('')
  }, 180_000)

  it('an invalid file is one line naming the file and the place, and nothing is created', async () => {
    const dir = project('invalid', {'compose.yaml': `services:\n  a:\n    image: ${busybox}\n    ports: {bad: 1}\n`})
    const r = await compose(dir, ['up', '-d'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/compose\.yaml.*services\.a\.ports/)
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout).toBe('')
  }, 60_000)
})

describe('compose: a CI-style stack', () => {
  it('up --exit-code-from runs the tests against the service, stops the rest and exits with their code; secrets are mounted files', async () => {
    const dir = project('cistack', {
      'compose.yaml': `
services:
  api:
    image: ${web}
    stop_grace_period: 1s
  tests:
    image: ${busybox}
    command: ["sh", "-c", "wget -q -O - http://api/ && cat /run/secrets/token && exit 3"]
    depends_on: [api]
    secrets: [token]
secrets:
  token:
    file: ./token.txt
`,
      'token.txt': 's3cret\n',
    })
    const r = await compose(dir, ['up', '--exit-code-from', 'tests'], 120_000)
    expect(r.exitCode, r.stderr).toBe(3)
    expect(r.stdout).toMatch(/tests-1 {2}\| hello from ctr-ts\ntests-1 {2}\| s3cret\n/)
    expect(r.stdout).toMatch(/tests-1 exited with code 3/)
    expect(r.stderr).toMatch(/Aborting on container exit/)
    expect((await ok(dir, ['ps', '-q'])).stdout).toBe('')
    await ok(dir, ['down'])
    await nothingRunning()
  }, 180_000)
})

describe('compose: lifecycle commands, external objects, orphans', () => {
  it('stop, start, restart, kill, rm, top, images, pull, logs --tail -t; external network and volume kept; --remove-orphans', async () => {
    expect((await ctr(['network', 'create', 'shared'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['volume', 'create', 'keep'], {env: env()})).exitCode).toBe(0)
    const file = (withExtra: boolean) => `
services:
  app:
    image: ${busybox}
    command: sh -c 'echo line1; echo line2; echo line3; exec sleep 1000'
    stop_signal: SIGKILL
    networks: [shared, own]
    volumes: [keep:/keep]
  side:
    image: ${busybox}
    command: ["sleep", "1000"]
    stop_signal: SIGKILL
    depends_on: [app]
${withExtra ? `  extra:\n    image: ${busybox}\n    command: ["sleep", "1000"]\n    stop_signal: SIGKILL\n` : ''}
networks:
  shared: {external: true}
  own: {internal: true}
volumes:
  keep: {external: true}
`
    const dir = project('life', {'compose.yaml': file(true)})
    await ok(dir, ['up', '-d'])
    expect(await waitFor(async () => (await compose(dir, ['logs', 'app'])).stdout.includes('line3'), 20_000)).toBe(true)
    expect((await ok(dir, ['logs', '--tail', '1', 'app'])).stdout).toBe('app-1  | line3\n')
    expect((await ok(dir, ['logs', '-t', '--no-log-prefix', '--tail', '1', 'app'])).stdout).toMatch(/^\d{4}-\d\d-\d\dT\S+Z line3\n$/)
    const internal = await ctr(['network', 'inspect', '-f', '{{.Internal}}', 'life_own'], {env: env()})
    expect(internal.stdout).toBe('true\n')
    const top = (await ok(dir, ['top', 'side'])).stdout
    expect(top).toMatch(/^side-1\nUID\s+PID/)
    expect(top).toMatch(/sleep 1000/)
    const imgs = (await ok(dir, ['images'])).stdout
    expect(imgs).toMatch(/^CONTAINER\s+REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE\n/)
    expect(imgs).toMatch(/^life-app-1\s/m)
    expect((await ok(dir, ['pull', '-q'])).exitCode).toBe(0)

    await ok(dir, ['stop', 'side'])
    expect((await ok(dir, ['ps', '--services'])).stdout).toBe('app\nextra\n')
    await ok(dir, ['start'])
    expect((await ok(dir, ['ps', '--services'])).stdout).toBe('app\nextra\nside\n')
    const before = (await inspect('life-side-1')).State.StartedAt
    await ok(dir, ['restart', 'side'])
    expect((await inspect('life-side-1')).State.StartedAt).not.toBe(before)
    await ok(dir, ['kill', 'side'])
    expect((await inspect('life-side-1')).State.Status).toBe('exited')
    await ok(dir, ['rm', '-f', 'side'])
    expect((await ok(dir, ['ps', '-a', '--services'])).stdout).toBe('app\nextra\n')

    // extra leaves the file: an orphan, warned about, removed with --remove-orphans
    writeFileSync(join(dir, 'compose.yaml'), file(false))
    const warned = await ok(dir, ['up', '-d'])
    expect(warned.stderr).toMatch(/Found orphan containers \(life-extra-1\)/)
    const removed = await ok(dir, ['up', '-d', '--remove-orphans'])
    expect(removed.stderr).toMatch(/Container life-extra-1 {2}Removed/)
    await ok(dir, ['down', '-v'])
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout).toBe('')
    // external objects are not the project's to remove
    expect((await ctr(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}'], {env: env()})).stdout).toBe('shared\n')
    expect((await ctr(['volume', 'ls', '-q'], {env: env()})).stdout).toBe('keep\n')
    expect((await ctr(['network', 'rm', 'shared'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['volume', 'rm', 'keep'], {env: env()})).exitCode).toBe(0)
    await nothingRunning()
  }, 240_000)

  it('an external network that does not exist is an error before anything is created', async () => {
    const dir = project('noext', {'compose.yaml': `services:\n  a:\n    image: ${busybox}\n    networks: [gone]\nnetworks:\n  gone: {external: true}\n`})
    const r = await compose(dir, ['up', '-d'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/network gone declared as external, but could not be found/)
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout).toBe('')
  }, 60_000)
})
