/**
 * User-defined networks end to end, as the unprivileged user through the real binary: the
 * rootless network holder (ctr-ts-netns) with slirp4netns, netavark's bridges and aardvark-dns'
 * names. Containers talk by name, alias, short id and address; networks are isolated from each
 * other; internal networks have no outside; -p works; nothing is left once everything is removed.
 */
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {createServer, type Server} from 'node:http'
import {connect} from 'node:net'
import {networkInterfaces} from 'node:os'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {footprint} from '../harness/leaks.js'
import {waitFor} from '../harness/proc.js'
import {freePort} from '../harness/registry.js'

let t: TempRoot
let web: string
let busybox: string
const env = () => t.env

beforeAll(async () => {
  t = tempRoot()
  web = testEnv().fixtures.web!.ref
  busybox = testEnv().fixtures.busybox!.ref
  for (const ref of [web, busybox]) {
    const pulled = await ctr(['pull', '-q', ref], {env: env()})
    expect(pulled.exitCode).toBe(0)
  }
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
})

function hostAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address
  return undefined
}

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

const run = (args: string[], timeoutMs = 60_000) => ctr(['run', ...args], {env: env(), timeoutMs})

describe('network commands', () => {
  it('create, ls (format, filter, -q), inspect, rm', async () => {
    const created = await ctr(['network', 'create', '--label', 'env=ci', '--subnet', '10.77.0.0/24', 'alpha'], {env: env()})
    expect(created.stderr).toBe('')
    expect(created.exitCode).toBe(0)
    expect(created.stdout.trim()).toMatch(/^[0-9a-f]{64}$/)
    expect((await ctr(['network', 'create', 'beta'], {env: env()})).exitCode).toBe(0)

    const dup = await ctr(['network', 'create', 'alpha'], {env: env()})
    expect(dup.exitCode).not.toBe(0)
    expect(dup.stderr).toMatch(/already exists/)
    const overlap = await ctr(['network', 'create', '--subnet', '10.77.0.128/25', 'gamma'], {env: env()})
    expect(overlap.exitCode).not.toBe(0)
    expect(overlap.stderr).toMatch(/overlaps/)

    const ls = await ctr(['network', 'ls'], {env: env()})
    expect(ls.stdout).toMatch(/^NETWORK ID\s+NAME\s+DRIVER\s+SCOPE\n/)
    expect(ls.stdout).toMatch(/alpha\s+bridge\s+local/)
    // docker's pre-defined networks are listed too: bridge (the default network), host, none
    expect(ls.stdout).toMatch(/^[0-9a-f]{12}\s+bridge\s+bridge\s+local$/m)
    expect(ls.stdout).toMatch(/^[0-9a-f]{12}\s+host\s+host\s+local$/m)
    expect(ls.stdout).toMatch(/^[0-9a-f]{12}\s+none\s+null\s+local$/m)
    const json = (await ctr(['network', 'ls', '--format', 'json'], {env: env()})).stdout.trim().split('\n').map((l) => JSON.parse(l) as {Name: string})
    expect(json.map((j) => j.Name)).toEqual(['alpha', 'beta', 'bridge', 'host', 'none'])
    expect((await ctr(['network', 'ls', '--filter', 'type=custom', '--format', '{{.Name}}'], {env: env()})).stdout).toBe('alpha\nbeta\n')
    expect((await ctr(['network', 'ls', '--filter', 'type=builtin', '--format', '{{.Name}} {{.Driver}}'], {env: env()})).stdout).toBe('bridge bridge\nhost host\nnone null\n')
    const bridge = JSON.parse((await ctr(['network', 'inspect', 'bridge'], {env: env()})).stdout) as Array<{Name: string; Driver: string; IPAM: {Config: Array<{Subnet: string}>}}>
    expect(bridge[0]).toMatchObject({Name: 'bridge', Driver: 'bridge', IPAM: {Config: [{Subnet: '10.0.2.0/24'}]}})
    const rmBridge = await ctr(['network', 'rm', 'bridge'], {env: env()})
    expect(rmBridge.exitCode).toBe(1)
    expect(rmBridge.stderr).toBe('ctr-ts: bridge is a pre-defined network and cannot be removed\n')
    expect((await ctr(['network', 'ls', '--filter', 'label=env=ci', '--format', '{{.Name}}'], {env: env()})).stdout).toBe('alpha\n')
    expect((await ctr(['network', 'ls', '-q', '--filter', 'name=bet'], {env: env()})).stdout).toMatch(/^[0-9a-f]{12}\n$/)

    const insp = await ctr(['network', 'inspect', 'alpha'], {env: env()})
    expect(insp.exitCode).toBe(0)
    const doc = JSON.parse(insp.stdout) as Array<{Name: string; IPAM: {Config: Array<{Subnet: string; Gateway: string}>}; Labels: Record<string, string>}>
    expect(doc[0]!.IPAM.Config[0]).toEqual({Subnet: '10.77.0.0/24', Gateway: '10.77.0.1'})
    expect(doc[0]!.Labels).toEqual({env: 'ci'})
    expect((await ctr(['network', 'inspect', '-f', '{{.Internal}}', 'beta'], {env: env()})).stdout).toBe('false\n')

    const missing = await run(['--rm', '--network', 'nope', busybox, 'true'])
    expect(missing.exitCode).toBe(125)
    expect(missing.stderr).toMatch(/network nope not found/)

    expect((await ctr(['network', 'rm', 'alpha', 'beta'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['network', 'ls', '-q', '--filter', 'type=custom'], {env: env()})).stdout).toBe('')
    expect((await ctr(['network', 'ls', '--format', '{{.Name}}'], {env: env()})).stdout).toBe('bridge\nhost\nnone\n')
    expect((await ctr(['network', 'rm', 'alpha'], {env: env()})).exitCode).not.toBe(0)
  }, 60_000)
})

describe('containers on user-defined networks', () => {
  let server: Server
  let serverPort = 0
  const host = hostAddress()

  beforeAll(async () => {
    for (const n of ['backend', 'other']) expect((await ctr(['network', 'create', n], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['network', 'create', '--internal', 'sealed'], {env: env()})).exitCode).toBe(0)
    serverPort = await freePort()
    server = createServer((_req, res) => res.end('from the host\n'))
    await new Promise<void>((r) => server.listen(serverPort, '0.0.0.0', r))
  }, 60_000)

  afterAll(async () => {
    server?.close()
  })

  it('two containers talk over TCP by name, alias, short id and address; another network cannot resolve or reach them', async () => {
    const started = await run(['-d', '--name', 'db', '--network', 'backend', '--network-alias', 'database', web])
    expect(started.stderr).toBe('')
    expect(started.exitCode).toBe(0)
    const id = started.stdout.trim()
    const inspect = JSON.parse((await ctr(['network', 'inspect', 'backend'], {env: env()})).stdout) as Array<{Containers: Record<string, {Name: string; IPv4Address: string}>}>
    const ip = inspect[0]!.Containers[id]!.IPv4Address.split('/')[0]!
    expect(ip).toMatch(/^10\.89\.\d+\.\d+$/)
    const ci = JSON.parse((await ctr(['inspect', 'db'], {env: env()})).stdout) as Array<{HostConfig: {NetworkMode: string}; NetworkSettings: {Networks: Record<string, {IPAddress: string; Aliases: string[]}>}}>
    expect(ci[0]!.HostConfig.NetworkMode).toBe('backend')
    expect(ci[0]!.NetworkSettings.Networks.backend).toMatchObject({IPAddress: ip, Aliases: [id.slice(0, 12), 'database']})

    for (const target of ['db', 'database', id.slice(0, 12), ip]) {
      const got = await run(['--rm', '--network', 'backend', busybox, 'wget', '-q', '-O', '-', `http://${target}/`])
      expect({target, out: got.stdout, code: got.exitCode}).toEqual({target, out: 'hello from ctr-ts\n', code: 0})
    }
    // busybox-static's wget segfaults with -T: timeouts come from `timeout`, under sh and not as
    // its last command (else sh execs it: as pid 1, busybox's timeout execs the command as pid 1,
    // which ignores SIGTERM)
    // /etc/hosts and resolv.conf follow the network
    const hosts = await run(['--rm', '--name', 'peek', '--network', 'backend', busybox, 'sh', '-c', 'cat /etc/hosts /etc/resolv.conf'])
    expect(hosts.stdout).toMatch(/^10\.89\.\d+\.\d+\s.*peek/m)
    expect(hosts.stdout).toMatch(/^nameserver 10\.89\.\d+\.1$/m)

    const resolve = await run(['--rm', '--network', 'other', busybox, 'sh', '-c', 'timeout 5 nslookup db; exit $?'])
    expect(resolve.exitCode).not.toBe(0)
    const reach = await run(['--rm', '--network', 'other', busybox, 'sh', '-c', `timeout 3 wget -q -O - http://${ip}/; exit $?`])
    expect(reach.exitCode).not.toBe(0)
    expect(reach.exitCode).not.toBe(124) // the CLI's own timeout
    expect(reach.stdout).toBe('')
    // a container on both networks reaches it
    const both = await run(['--rm', '--network', 'other', '--network', 'backend', busybox, 'wget', '-q', '-O', '-', 'http://db/'])
    expect(both.stdout).toBe('hello from ctr-ts\n')

    expect((await ctr(['rm', '-f', 'db'], {env: env()})).exitCode).toBe(0)
  }, 180_000)

  it('a network reaches the outside through the user-mode stack; an --internal one has no route out', async () => {
    expect(host).toBeDefined()
    const out = await run(['--rm', '--network', 'backend', busybox, 'wget', '-q', '-O', '-', `http://${host}:${serverPort}/`])
    expect(out.stdout).toBe('from the host\n')
    const sealed = await run(['--rm', '--network', 'sealed', busybox, 'sh', '-c', `ip route; timeout 3 wget -q -O - http://${host}:${serverPort}/; exit $?`])
    expect(sealed.exitCode).not.toBe(0)
    expect(sealed.stdout).not.toMatch(/default/)
    expect(sealed.stdout).not.toMatch(/from the host/)
  }, 120_000)

  it('-p publishes a port of a container on a network through the same proxy', async () => {
    const port = await freePort()
    const started = await run(['-d', '--name', 'pub', '--network', 'backend', '-p', `127.0.0.1:${port}:80`, web])
    expect(started.exitCode).toBe(0)
    expect(await waitFor(async () => (await httpBody(port)) === 'hello from ctr-ts\n', 10_000)).toBe(true)
    const portOut = await ctr(['port', 'pub'], {env: env()})
    expect(portOut.stdout).toContain(`127.0.0.1:${port}`)
    expect((await ctr(['rm', '-f', 'pub'], {env: env()})).exitCode).toBe(0)
  }, 120_000)

  it('--network container:NAME shares another container\'s network namespace', async () => {
    expect((await run(['-d', '--name', 'main', '--network', 'backend', web])).exitCode).toBe(0)
    const side = await run(['--rm', '--network', 'container:main', busybox, 'wget', '-q', '-O', '-', 'http://127.0.0.1/'])
    expect(side.stdout).toBe('hello from ctr-ts\n')
    expect((await ctr(['rm', '-f', 'main'], {env: env()})).exitCode).toBe(0)
  }, 120_000)

  it('connect and disconnect a stopped container; a network in use cannot be removed', async () => {
    expect((await ctr(['create', '--name', 'later', '--network', 'other', web], {env: env()})).exitCode).toBe(0)
    const busy = await ctr(['network', 'rm', 'other'], {env: env()})
    expect(busy.exitCode).not.toBe(0)
    expect(busy.stderr).toMatch(/has containers/)
    expect((await ctr(['network', 'connect', '--alias', 'late', 'backend', 'later'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['start', 'later'], {env: env()})).exitCode).toBe(0)
    const got = await run(['--rm', '--network', 'backend', busybox, 'wget', '-q', '-O', '-', 'http://late/'])
    expect(got.stdout).toBe('hello from ctr-ts\n')
    expect((await ctr(['stop', '-t', '1', 'later'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['network', 'disconnect', 'backend', 'later'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['rm', 'later'], {env: env()})).exitCode).toBe(0)
  }, 120_000)

  it('connect and disconnect a running container: the interface, the address and the names come and go at once', async () => {
    expect((await run(['-d', '--name', 'svc', '--network', 'backend', web])).exitCode).toBe(0)
    expect((await run(['-d', '--name', 'client', '--network', 'other', busybox, 'sleep', '1000'])).exitCode).toBe(0)
    const fetch = (target: string) => ctr(['exec', 'client', 'sh', '-c', `timeout 5 wget -q -O - http://${target}/; echo "rc=$?"`], {env: env()})
    expect((await fetch('svc')).stdout).not.toContain('hello from ctr-ts')

    const connected = await ctr(['network', 'connect', '--alias', 'cli', 'backend', 'client'], {env: env()})
    expect(connected.stderr).toBe('')
    expect(connected.exitCode).toBe(0)
    expect((await fetch('svc')).stdout).toBe('hello from ctr-ts\nrc=0\n')
    const ifaces = await ctr(['exec', 'client', 'sh', '-c', 'ip -o -4 addr show | grep -c 10.89'], {env: env()})
    expect(ifaces.stdout).toBe('2\n')
    // the new name resolves for the network's other containers
    const byAlias = await run(['--rm', '--network', 'backend', busybox, 'sh', '-c', 'timeout 5 nslookup cli >/dev/null; echo "rc=$?"'])
    expect(byAlias.stdout).toBe('rc=0\n')
    const inspect = JSON.parse((await ctr(['inspect', 'client'], {env: env()})).stdout) as Array<{NetworkSettings: {Networks: Record<string, {Aliases: string[]}>}}>
    expect(Object.keys(inspect[0]!.NetworkSettings.Networks).sort()).toEqual(['backend', 'other'])

    const disconnected = await ctr(['network', 'disconnect', 'backend', 'client'], {env: env()})
    expect(disconnected.exitCode).toBe(0)
    expect((await fetch('svc')).stdout).not.toContain('hello from ctr-ts')
    const gone = await run(['--rm', '--network', 'backend', busybox, 'sh', '-c', 'timeout 5 nslookup cli >/dev/null; echo "rc=$?"'])
    expect(gone.stdout).not.toBe('rc=0\n')
    // the last network stays
    expect((await ctr(['network', 'disconnect', 'other', 'client'], {env: env()})).exitCode).toBe(1)
    expect((await ctr(['rm', '-f', 'svc', 'client'], {env: env()})).exitCode).toBe(0)
  }, 180_000)

  it('a killed holder leaves nothing that blocks the next run', async () => {
    expect((await run(['-d', '--name', 'orphan', '--network', 'backend', web])).exitCode).toBe(0)
    const holders = footprint(t.root, t.runRoot).processes.filter((p) => p.includes('ctr-ts-netns'))
    expect(holders.length).toBeGreaterThan(0)
    for (const p of holders) process.kill(Number(p.split(' ')[0]), 'SIGKILL')
    expect((await ctr(['rm', '-f', 'orphan'], {env: env()})).exitCode).toBe(0)
    const again = await run(['--rm', '--network', 'backend', busybox, 'sh', '-c', 'ip route | grep -c default'])
    expect(again.stdout).toBe('1\n')
    expect(again.exitCode).toBe(0)
  }, 120_000)

  it('after rm of everything no process, mount or namespace of the network is left', async () => {
    expect((await run(['-d', '--name', 'last', '--network', 'backend', web])).exitCode).toBe(0)
    const before = footprint(t.root, t.runRoot)
    expect(before.processes.some((p) => p.includes('ctr-ts-netns'))).toBe(true)
    expect(before.processes.some((p) => p.includes('aardvark-dns'))).toBe(true)
    // the namespaces of the network: the holder's (bridges, slirp4netns' tap0) and the container's
    const holderPid = Number(before.processes.find((p) => p.includes('ctr-ts-netns'))!.split(' ')[0])
    const inspected = JSON.parse((await ctr(['inspect', 'last'], {env: env()})).stdout) as Array<{State: {Pid: number}}>
    const namespaces = [`/proc/${holderPid}/ns/net`, `/proc/${holderPid}/ns/user`, `/proc/${inspected[0]!.State.Pid}/ns/net`].map((p) => readlinkSync(p))
    expect(new Set(namespaces).size).toBe(3)
    expect((await ctr(['rm', '-f', 'last'], {env: env()})).exitCode).toBe(0)
    await waitFor(() => footprint(t.root, t.runRoot).processes.length === 0, 10_000)
    const after = footprint(t.root, t.runRoot)
    expect(after.processes.join('\n')).toBe('')
    expect(after.mounts).toEqual([])
    expect(after.fds).toEqual([])
    // no process of this user is in one of them any more (and none holds one open: fds above)
    const stillIn = (): string[] => {
      const found: string[] = []
      for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
        for (const ns of ['net', 'user']) {
          try {
            const link = readlinkSync(`/proc/${pid}/ns/${ns}`)
            if (namespaces.includes(link)) found.push(`${pid} ${link} ${readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')}`)
          } catch {
            // another user's process, or gone
          }
        }
      }
      return found
    }
    await waitFor(() => stillIn().length === 0, 10_000)
    expect(stillIn()).toEqual([])
    // the next run starts a new holder without trouble
    const again = await run(['--rm', '--network', 'backend', busybox, 'true'])
    expect(again.exitCode).toBe(0)
    await waitFor(() => footprint(t.root, t.runRoot).processes.length === 0, 10_000)
    expect(footprint(t.root, t.runRoot).processes).toEqual([])
    expect((await ctr(['network', 'prune', '-f'], {env: env()})).stdout).toMatch(/Deleted Networks:\n(backend|other|sealed)\n/)
    expect((await ctr(['network', 'ls', '-q', '--filter', 'type=custom'], {env: env()})).stdout).toBe('')
    // the pre-defined networks are no records: prune leaves them
    expect((await ctr(['network', 'ls', '--format', '{{.Name}}'], {env: env()})).stdout).toBe('bridge\nhost\nnone\n')
  }, 120_000)
})
