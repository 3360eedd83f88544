/**
 * The npm `testcontainers` package against `ctr-ts system service`: a GenericContainer from a
 * fixture image with exposed ports, the listening-ports, log-message and health-check wait
 * strategies, content copied in before start, exec, getMappedPort and stop. Ryuk (its reaper
 * container) comes from Docker Hub, which CI cannot reach: TESTCONTAINERS_RYUK_DISABLED=true.
 * TESTCONTAINERS_HOST_OVERRIDE=localhost: see docs/API.md.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {type TempRoot} from '../harness/cli.js'
import {type ApiService, docker, startService, rootWithBusybox, stopAndClean} from '../harness/api-service.js'

let t: TempRoot
let svc: ApiService
let busybox: string

beforeAll(async () => {
  ;({t, busybox} = await rootWithBusybox())
  svc = await startService(t)
  process.env.DOCKER_HOST = svc.host
  process.env.TESTCONTAINERS_RYUK_DISABLED = 'true'
  // in a container (/.dockerenv, as in CI) testcontainers would take the "bridge" network's
  // gateway as the host of published ports; ctr-ts publishes them on this machine
  process.env.TESTCONTAINERS_HOST_OVERRIDE = 'localhost'
  process.env.HOME = t.home
}, 120_000)

afterAll(() => stopAndClean(t, svc))

describe('testcontainers', () => {
  it('starts a GenericContainer with exposed ports and wait strategies, copies content, execs, stops', async () => {
    const {GenericContainer, Wait} = await import('testcontainers')
    const container = await new GenericContainer(busybox)
      .withCommand(['sh', '-c', 'echo served > /tmp/index.html; httpd -f -p 8080 -h /tmp & sleep 0.5; echo ready; touch /tmp/healthy; wait'])
      .withExposedPorts(8080)
      .withCopyContentToContainer([{content: 'copied in\n', target: '/tmp/copied.txt'}])
      .withHealthCheck({test: ['CMD-SHELL', 'test -f /tmp/healthy'], interval: 500, timeout: 2000, retries: 5, startPeriod: 0})
      .withWaitStrategy(Wait.forAll([Wait.forListeningPorts(), Wait.forLogMessage('ready'), Wait.forHealthCheck()]))
      .withStartupTimeout(60_000)
      .start()
    try {
      const port = container.getMappedPort(8080)
      expect(port).toBeGreaterThan(0)
      const res = await fetch(`http://${container.getHost()}:${port}/index.html`)
      expect(await res.text()).toBe('served\n')
      const r = await container.exec(['cat', '/tmp/copied.txt'])
      expect(r.exitCode).toBe(0)
      expect(r.output).toBe('copied in\n')
      const failing = await container.exec(['sh', '-c', 'echo oops >&2; exit 4'])
      expect(failing.exitCode).toBe(4)
      expect(failing.stderr).toBe('oops\n')
      const ps = await docker(svc, ['ps', '--format', '{{.ID}} {{.Status}}'])
      expect(ps.stdout).toMatch(/\(healthy\)/)
    } finally {
      await container.stop()
    }
    // stop removes the container (testcontainers' default)
    expect((await docker(svc, ['ps', '-aq'])).stdout.trim()).toBe('')
  }, 120_000)

  it('Network: containers reach each other by name on a Testcontainers network; withReuse finds the running container again', async () => {
    const {GenericContainer, Network} = await import('testcontainers')
    const network = await new Network().start()
    const server = await new GenericContainer(busybox)
      .withCommand(['sh', '-c', 'echo from-server > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'])
      .withNetwork(network)
      .withReuse()
      .withLabels({role: 'server'})
      .start()
    const client = await new GenericContainer(busybox).withCommand(['sleep', '300']).withNetwork(network).start()
    try {
      const name = server.getName().replace(/^\//, '')
      let got = ''
      for (let i = 0; i < 20 && got !== 'from-server\n'; i++) {
        got = (await client.exec(['wget', '-qO-', `http://${name}:8080/index.html`])).stdout
        if (got !== 'from-server\n') await new Promise((r) => setTimeout(r, 250))
      }
      expect(got).toBe('from-server\n')
      const again = await new GenericContainer(busybox)
        .withCommand(['sh', '-c', 'echo from-server > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'])
        .withNetwork(network)
        .withReuse()
        .withLabels({role: 'server'})
        .start()
      expect(again.getId()).toBe(server.getId())
    } finally {
      await client.stop()
      await server.stop()
      await network.stop()
    }
    expect((await docker(svc, ['ps', '-aq'])).stdout.trim()).toBe('')
  }, 120_000)
})
