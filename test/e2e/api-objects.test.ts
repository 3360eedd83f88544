/**
 * The API service's image, build, network and volume endpoints end to end, as the unprivileged
 * user: `ctr-ts system service` on a socket in a temporary directory, driven by Debian's docker
 * client (/usr/bin/docker: only the client, no dockerd) and by raw HTTP for docker's error
 * answers. The CLI and the service see the same store.
 */
import {execFile, execFileSync} from 'node:child_process'
import {mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync} from 'node:fs'
import {request} from 'node:http'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {apiRequest, type ApiService, docker as runDocker, type DockerResult, startService} from '../harness/api-service.js'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'

let t: TempRoot
let svc: ApiService
let sock: string
let busybox: string
let registry: string

type Run = DockerResult

/** The docker client against the service (what a user types, no DOCKER_BUILDKIT or other switches). */
function docker(args: string[], opts: {timeoutMs?: number; input?: string} = {}): Promise<Run> {
  return runDocker(svc, args, {timeoutMs: opts.timeoutMs ?? 120_000, ...(opts.input !== undefined ? {input: opts.input} : {})})
}

async function api(method: string, path: string, body?: string): Promise<{status: number; body: string}> {
  const r = await apiRequest(svc, method, path, body)
  return {status: r.status, body: r.body.toString('utf8')}
}

beforeAll(async () => {
  t = tempRoot()
  busybox = testEnv().fixtures.busybox!.ref
  registry = testEnv().plainRegistry
  svc = await startService(t)
  sock = svc.socket
}, 60_000)

afterAll(async () => {
  await svc?.stop()
  await t?.cleanup()
})

describe('images through the docker client', () => {
  it('pull streams docker progress; images, inspect, history see it; the CLI sees it too', async () => {
    const pulled = await docker(['pull', busybox])
    expect(pulled.exitCode, pulled.stderr).toBe(0)
    expect(pulled.stdout).toMatch(/Pulling from fixtures\/busybox/)
    expect(pulled.stdout).toContain(`Status: Downloaded newer image for ${busybox}`)
    expect(pulled.stdout).toMatch(/Digest: sha256:[0-9a-f]{64}/)

    const again = await docker(['pull', busybox])
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout).toContain(`Status: Image is up to date for ${busybox}`)

    const images = await docker(['images', '--format', '{{.Repository}}:{{.Tag}} {{.ID}}'])
    expect(images.exitCode, images.stderr).toBe(0)
    const configHex = testEnv().fixtures.busybox!.configDigest.slice(7, 19)
    expect(images.stdout).toContain(`${busybox} ${configHex}`)
    expect((await docker(['images', '-q'])).stdout.trim()).toBe(configHex)
    expect((await docker(['images', '--digests', '--format', '{{.Digest}}'])).stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/)

    expect((await docker(['images', '-q', '--filter', `reference=${busybox}`])).stdout.trim()).toBe(configHex)
    expect((await docker(['images', '-q', '--filter', 'reference=nothing-like-it'])).stdout.trim()).toBe('')
    expect((await docker(['images', '-q', '--filter', 'dangling=true'])).stdout.trim()).toBe('')

    const id = await docker(['image', 'inspect', '-f', '{{.Id}} {{index .RepoTags 0}}', busybox])
    expect(id.stdout.trim()).toBe(`${testEnv().fixtures.busybox!.configDigest} ${busybox}`)
    const history = await docker(['history', '--no-trunc', busybox])
    expect(history.exitCode, history.stderr).toBe(0)
    expect(history.stdout).toMatch(/^IMAGE\s+CREATED\s+CREATED BY/)

    const cli = await ctr(['images', '--format', '{{.Repository}}:{{.Tag}}'], {env: t.env})
    expect(cli.stdout).toContain(busybox)

    // --platform picks an index's entry
    const multi = testEnv().fixtures.index!.ref
    const arm = await docker(['pull', '--platform', 'linux/arm64', multi])
    expect(arm.exitCode, arm.stderr).toBe(0)
    expect((await docker(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', multi])).stdout.trim()).toBe('linux/arm64')
    const none = await docker(['pull', '--platform', 'linux/s390x', multi])
    expect(none.exitCode).not.toBe(0)
    expect(none.stderr + none.stdout).toMatch(/no matching manifest for linux\/s390x/)
    expect((await docker(['rmi', multi])).exitCode).toBe(0)
  })

  it('tag, push (X-Registry-Auth), rmi, pull back; unknown images are docker\'s 404', async () => {
    const target = `${registry}/api/pushed:1`
    expect((await docker(['tag', busybox, target])).exitCode).toBe(0)
    const pushed = await docker(['push', target])
    expect(pushed.exitCode, pushed.stderr).toBe(0)
    expect(pushed.stdout).toContain(`The push refers to repository [${registry}/api/pushed]`)
    expect(pushed.stdout).toMatch(/1: digest: sha256:[0-9a-f]{64} size: \d+/)

    const rmi = await docker(['rmi', target])
    expect(rmi.exitCode, rmi.stderr).toBe(0)
    expect(rmi.stdout).toContain(`Untagged: ${target}`)
    const back = await docker(['pull', target])
    expect(back.exitCode, back.stderr).toBe(0)
    expect((await docker(['rmi', target])).exitCode).toBe(0)

    const missing = await docker(['rmi', 'nope:1'])
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toContain('No such image: nope:1')
    const inspect = await api('GET', '/v1.41/images/nope:1/json')
    expect(inspect.status).toBe(404)
    expect(JSON.parse(inspect.body)).toEqual({message: 'No such image: nope:1'})
    const pushMissing = await docker(['push', `${registry}/api/never:1`])
    expect(pushMissing.exitCode).not.toBe(0)
    expect(pushMissing.stderr).toContain(`No such image: ${registry}/api/never:1`)
    const badPull = await docker(['pull', `${registry}/fixtures/does-not-exist:1`])
    expect(badPull.exitCode).not.toBe(0)
    expect((await docker(['tag', 'nope:1', 'other:1'])).stderr).toContain('No such image: nope:1')
    expect((await api('GET', '/images/search?term=x')).status).toBe(501)
  })

  it('save and load (docker-archive) through the socket', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-save-'))
    const file = join(dir, 'img.tar')
    try {
      const saved = await docker(['save', '-o', file, busybox])
      expect(saved.exitCode, saved.stderr).toBe(0)
      expect(statSync(file).size).toBeGreaterThan(100_000)
      expect((await docker(['rmi', busybox])).exitCode).toBe(0)
      expect((await docker(['images', '-q'])).stdout.trim()).toBe('')
      const loaded = await docker(['load', '-i', file])
      expect(loaded.exitCode, loaded.stderr).toBe(0)
      expect(loaded.stdout).toContain(`Loaded image: ${busybox}`)
      expect((await docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])).stdout).toContain(busybox)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('import (fromSrc=-): a root filesystem tar as a one-layer image', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-import-'))
    try {
      writeFileSync(join(dir, 'hello.txt'), 'imported\n')
      execFileSync('tar', ['-C', dir, '-cf', join(dir, 'rootfs.tar'), 'hello.txt'])
      const imported = await docker(['import', '-c', 'CMD ["/hello.txt"]', join(dir, 'rootfs.tar'), 'api/imported:1'])
      expect(imported.exitCode, imported.stderr).toBe(0)
      expect(imported.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/)
      const cmd = await docker(['image', 'inspect', '-f', '{{json .Config.Cmd}} {{len .RootFS.Layers}}', 'api/imported:1'])
      expect(cmd.stdout.trim()).toBe('["/hello.txt"] 1')
      expect((await docker(['rmi', 'api/imported:1'])).exitCode).toBe(0)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('build: a Dockerfile FROM the fixture image, tar context, build args, labels, -q', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-build-'))
    try {
      writeFileSync(join(dir, 'Dockerfile'), `FROM ${busybox}\nARG WHO=nobody\nCOPY hello.txt /hello.txt\nRUN echo "built by $WHO" > /built.txt\nCMD ["cat", "/built.txt"]\n`)
      writeFileSync(join(dir, 'hello.txt'), 'hello from the context\n')
      const built = await docker(['build', '-t', 'api/built:1', '--build-arg', 'WHO=docker', '--label', 'made=api', dir], {timeoutMs: 240_000})
      expect(built.exitCode, built.stderr).toBe(0)
      expect(built.stdout).toMatch(/Successfully built [0-9a-f]{12}/)
      expect(built.stdout).toContain('Successfully tagged api/built:1')
      const label = await docker(['image', 'inspect', '-f', '{{index .Config.Labels "made"}}', 'api/built:1'])
      expect(label.stdout.trim()).toBe('made=api'.split('=')[1])
      const out = await ctr(['run', '--rm', 'api/built:1', 'cat', '/built.txt', '/hello.txt'], {env: t.env, timeoutMs: 60_000})
      expect(out.exitCode, out.stderr).toBe(0)
      expect(out.stdout).toBe('built by docker\nhello from the context\n')

      // a Dockerfile outside the context: the client sends it inside the tar under another name
      const outside = mkdtempSync(join(tmpdir(), 'api-build-file-'))
      writeFileSync(join(outside, 'Other.dockerfile'), `FROM ${busybox}\nCOPY hello.txt /again.txt\n`)
      const other = await docker(['build', '-f', join(outside, 'Other.dockerfile'), '-t', 'api/other:1', dir], {timeoutMs: 240_000})
      rmSync(outside, {recursive: true, force: true})
      expect(other.exitCode, other.stderr).toBe(0)
      expect(other.stdout).toContain('Successfully tagged api/other:1')

      const quiet = await docker(['build', '-q', dir], {timeoutMs: 240_000})
      expect(quiet.exitCode, quiet.stderr).toBe(0)
      expect(quiet.stdout.trim()).toMatch(/^sha256:[0-9a-f]{64}$/)

      writeFileSync(join(dir, 'Dockerfile'), `FROM ${busybox}\nRUN exit 3\n`)
      const failed = await docker(['build', dir], {timeoutMs: 240_000})
      expect(failed.exitCode).not.toBe(0)
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  }, 600_000)

  it('a client that goes away mid-stream (save download, build upload) leaves the service answering and no image behind', async () => {
    // save: read the first bytes of the archive, then drop the connection
    await new Promise<void>((resolve, reject) => {
      const req = request({socketPath: svc.socket, method: 'GET', path: `/images/get?names=${encodeURIComponent(busybox)}`}, (res) => {
        expect(res.statusCode).toBe(200)
        res.once('data', () => {
          req.destroy()
          resolve()
        })
      })
      req.on('error', () => resolve())
      req.setTimeout(30_000, () => reject(new Error('no archive bytes')))
      req.end()
    })
    // build: half a tar context, then the connection ends
    await new Promise<void>((resolve) => {
      const req = request({socketPath: svc.socket, method: 'POST', path: '/build?t=api/half:1', headers: {'Content-Type': 'application/x-tar', 'Transfer-Encoding': 'chunked'}})
      req.on('error', () => resolve())
      req.on('response', (res) => {
        res.resume()
        res.on('end', () => resolve())
        res.on('error', () => resolve())
      })
      req.write(Buffer.alloc(700, 0x41))
      setTimeout(() => req.destroy(), 300)
      setTimeout(resolve, 3000)
    })
    expect((await api('GET', '/_ping')).body).toBe('OK')
    expect((await api('GET', '/images/api/half:1/json')).status).toBe(404)
    const again = await docker(['save', busybox], {timeoutMs: 60_000})
    expect(again.exitCode, again.stderr).toBe(0)
    expect(again.stdout.length).toBeGreaterThan(100_000)
  })

  it('login checks the registry (/auth); the client\'s X-Registry-Auth pulls a private image', async () => {
    const authRegistry = testEnv().authRegistry
    const wrong = await docker(['login', '-u', 'tester', '--password-stdin', authRegistry], {input: 'wrong\n'})
    expect(wrong.exitCode).not.toBe(0)
    expect(wrong.stderr).toMatch(/unauthorized/)
    const anonymous = await docker(['pull', testEnv().fixtures.private!.ref])
    expect(anonymous.exitCode).not.toBe(0)
    const ok = await docker(['login', '-u', 'tester', '--password-stdin', authRegistry], {input: 'secret\n'})
    expect(ok.exitCode, ok.stderr).toBe(0)
    expect(ok.stdout).toContain('Login Succeeded')
    const pulled = await docker(['pull', testEnv().fixtures.private!.ref])
    expect(pulled.exitCode, pulled.stderr).toBe(0)
    expect((await docker(['rmi', testEnv().fixtures.private!.ref])).exitCode).toBe(0)
  })

  it('system df', async () => {
    const df = await docker(['system', 'df'])
    expect(df.exitCode, df.stderr).toBe(0)
    expect(df.stdout).toMatch(/^TYPE\s+TOTAL\s+ACTIVE\s+SIZE\s+RECLAIMABLE\nImages\s+\d+/)
  })

  it('image prune answers docker\'s shape', async () => {
    const r = await api('POST', '/v1.41/images/prune')
    expect(r.status).toBe(200)
    expect(JSON.parse(r.body)).toMatchObject({SpaceReclaimed: expect.any(Number)})
  })
})

describe('docker-compose 1.29 against the socket', () => {
  it('up: two services on the project network (web reaches backend by name), a named volume; ps, logs, down -v', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'api-compose-'))
    const web = testEnv().fixtures.web!.ref
    writeFileSync(
      join(dir, 'docker-compose.yml'),
      [
        'version: "3.7"',
        'services:',
        '  backend:',
        `    image: ${web}`,
        '  web:',
        '    build: ./webimg',
        '    depends_on: [backend]',
        '    stop_grace_period: 2s',
        '    command: ["sh", "-c", "until timeout 5 wget -q -O /data/page.txt http://backend/; do sleep 1; done; echo fetched $$(cat /data/page.txt) $$(cat /note.txt); sleep 600"]',
        '    volumes:',
        '      - data:/data',
        'volumes:',
        '  data: {}',
        '',
      ].join('\n'),
    )
    // the web service is built by compose (docker-py's tar context through POST /build)
    mkdirSync(join(dir, 'webimg'))
    writeFileSync(join(dir, 'webimg', 'Dockerfile'), `FROM ${busybox}\nCOPY note.txt /note.txt\n`)
    writeFileSync(join(dir, 'webimg', 'note.txt'), 'built by compose\n')
    const compose = (args: string[], timeoutMs = 180_000) =>
      new Promise<Run>((resolve) => {
        execFile(
          '/usr/bin/docker-compose',
          ['-p', 'apitest', ...args],
          {cwd: dir, env: {...t.env, PATH: process.env.PATH ?? '/usr/bin:/bin', DOCKER_HOST: `unix://${sock}`, COMPOSE_INTERACTIVE_NO_CLI: '1'}, timeout: timeoutMs},
          (err, stdout, stderr) => resolve({exitCode: err ? (typeof err.code === 'number' ? err.code : 124) : 0, stdout, stderr}),
        )
      })
    try {
      const up = await compose(['up', '-d'], 300_000)
      expect(up.exitCode, up.stderr).toBe(0)
      expect(up.stderr).toMatch(/Building web/)
      expect(up.stderr).toMatch(/Creating network "apitest_default"/)
      expect(up.stderr).toMatch(/Creating volume "apitest_data"/)

      let logs: Run = {exitCode: 1, stdout: '', stderr: ''}
      for (let i = 0; i < 60; i++) {
        logs = await compose(['logs', '--no-color', 'web'])
        if (logs.stdout.includes('fetched hello from ctr-ts built by compose')) break
        await new Promise((r) => setTimeout(r, 1000))
      }
      expect(logs.stdout, logs.stderr).toContain('fetched hello from ctr-ts built by compose')

      const ps = await compose(['ps'])
      expect(ps.exitCode, ps.stderr).toBe(0)
      expect(ps.stdout).toMatch(/apitest_backend_1\s.*Up/)
      expect(ps.stdout).toMatch(/apitest_web_1\s.*Up/)
      expect((await docker(['volume', 'ls', '-q'])).stdout).toContain('apitest_data')
      expect((await docker(['network', 'ls', '--format', '{{.Name}}'])).stdout).toContain('apitest_default')

      const down = await compose(['down', '-v'])
      expect(down.exitCode, down.stderr).toBe(0)
      expect((await docker(['ps', '-aq'])).stdout.trim()).toBe('')
      expect((await docker(['volume', 'ls', '-q'])).stdout).not.toContain('apitest_data')
      expect((await docker(['network', 'ls', '--format', '{{.Name}}'])).stdout).not.toContain('apitest_default')
    } finally {
      await compose(['down', '-v', '-t', '1'], 60_000)
      rmSync(dir, {recursive: true, force: true})
    }
  }, 600_000)
})

describe('networks and volumes through the docker client', () => {
  it('network create, ls (with the built-ins), inspect, duplicates, rm', async () => {
    const created = await docker(['network', 'create', '--subnet', '10.78.0.0/24', '--label', 'env=api', 'apinet'])
    expect(created.exitCode, created.stderr).toBe(0)
    expect(created.stdout.trim()).toMatch(/^[0-9a-f]{64}$/)
    const ls = await docker(['network', 'ls', '--format', '{{.Name}} {{.Driver}}'])
    expect(ls.exitCode, ls.stderr).toBe(0)
    expect(ls.stdout.split('\n').filter(Boolean).sort()).toEqual(['apinet bridge', 'bridge bridge', 'host host', 'none null'])
    const filtered = await docker(['network', 'ls', '-q', '--filter', 'label=env=api'])
    expect(filtered.stdout.trim()).toBe(created.stdout.trim().slice(0, 12))
    const inspect = await docker(['network', 'inspect', '-f', '{{range .IPAM.Config}}{{.Subnet}} {{.Gateway}}{{end}} {{.Internal}}', 'apinet'])
    expect(inspect.stdout.trim()).toBe('10.78.0.0/24 10.78.0.1 false')

    const dup = await docker(['network', 'create', 'apinet'])
    expect(dup.exitCode).not.toBe(0)
    expect(dup.stderr).toContain('network with name apinet already exists')
    const raw = await api('POST', '/networks/create', JSON.stringify({Name: 'apinet'}))
    expect(raw.status).toBe(409)
    const bad = await api('POST', '/networks/create', '{"Name": ')
    expect(bad.status).toBe(400)
    expect(JSON.parse(bad.body).message).toMatch(/invalid JSON/)
    expect((await api('GET', '/networks/nonet')).status).toBe(404)

    const rmBridge = await docker(['network', 'rm', 'bridge'])
    expect(rmBridge.exitCode).not.toBe(0)
    expect(rmBridge.stderr).toContain('pre-defined network')
    expect((await docker(['network', 'rm', 'apinet'])).exitCode).toBe(0)
    expect((await docker(['network', 'ls', '-q', '--filter', 'name=apinet'])).stdout.trim()).toBe('')
    expect((await ctr(['network', 'ls', '-q', '--filter', 'type=custom'], {env: t.env})).stdout.trim()).toBe('')
  })

  it('run --network: containers reach each other by name and alias; connect/disconnect a stopped one', async () => {
    const web = testEnv().fixtures.web!.ref
    expect((await docker(['network', 'create', 'runnet'])).exitCode).toBe(0)
    const server = await docker(['run', '-d', '--name', 'apiweb', '--network', 'runnet', '--network-alias', 'www', web])
    expect(server.exitCode, server.stderr).toBe(0)
    const fetch = async (host: string) => docker(['run', '--rm', '--network', 'runnet', busybox, 'sh', '-c', `for i in 1 2 3 4 5 6 7 8 9 10; do timeout 5 wget -q -O - http://${host}/ && exit 0; sleep 1; done; exit 1`], {timeoutMs: 90_000})
    for (const host of ['apiweb', 'www']) {
      const r = await fetch(host)
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe('hello from ctr-ts\n')
    }
    const members = await docker(['network', 'inspect', '-f', '{{range .Containers}}{{.Name}} {{end}}', 'runnet'])
    expect(members.stdout.trim()).toBe('apiweb')
    const busy = await docker(['network', 'rm', 'runnet'])
    expect(busy.exitCode).not.toBe(0)

    // a created (not started) container: connect with an alias, then disconnect
    expect((await docker(['network', 'create', 'othernet'])).exitCode).toBe(0)
    expect((await docker(['create', '--name', 'idle', '--network', 'runnet', busybox, 'true'])).exitCode).toBe(0)
    const connected = await docker(['network', 'connect', '--alias', 'spare', 'othernet', 'idle'])
    expect(connected.exitCode, connected.stderr).toBe(0)
    const nets = await docker(['inspect', '-f', '{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}', 'idle'])
    expect(nets.stdout.trim().split(' ').sort()).toEqual(['othernet', 'runnet'])
    expect((await docker(['network', 'disconnect', 'othernet', 'idle'])).exitCode).toBe(0)
    const running = await docker(['network', 'disconnect', 'runnet', 'apiweb'])
    expect(running.exitCode).not.toBe(0)

    expect((await docker(['rm', '-f', 'apiweb', 'idle'])).exitCode).toBe(0)
    expect((await docker(['network', 'rm', 'runnet', 'othernet'])).exitCode).toBe(0)
  }, 300_000)

  it('network and volume prune, also by label in docker\'s map form (what Testcontainers\' Ryuk sends)', async () => {
    const label = {'org.testcontainers.session-id': 'abc'}
    expect((await api('POST', '/networks/create', JSON.stringify({Name: 'labelled', CheckDuplicate: true, Driver: 'bridge', Labels: label}))).status).toBe(201)
    expect((await docker(['network', 'create', 'prunable'])).exitCode).toBe(0)
    const byLabel = await api('POST', `/networks/prune?filters=${encodeURIComponent(JSON.stringify({label: {'org.testcontainers.session-id=abc': true}}))}`)
    expect(JSON.parse(byLabel.body)).toEqual({NetworksDeleted: ['labelled']})
    const pruned = await docker(['network', 'prune', '-f'])
    expect(pruned.exitCode, pruned.stderr).toBe(0)
    expect(pruned.stdout).toContain('prunable')

    expect((await api('POST', '/volumes/create', JSON.stringify({Name: 'tcvol', Labels: label}))).status).toBe(201)
    expect((await api('POST', '/volumes/create', JSON.stringify({Name: 'keepvol'}))).status).toBe(201)
    const volPrune = await api('POST', `/volumes/prune?filters=${encodeURIComponent(JSON.stringify({label: {'org.testcontainers.session-id=abc': true}}))}`)
    expect(JSON.parse(volPrune.body)).toMatchObject({VolumesDeleted: ['tcvol']})
    expect((await api('DELETE', '/volumes/keepvol')).status).toBe(204)
  })

  it('volume create, ls, inspect, rm, prune; 404 and 409', async () => {
    const created = await docker(['volume', 'create', '--label', 'k=v', 'apivol'])
    expect(created.exitCode, created.stderr).toBe(0)
    expect(created.stdout.trim()).toBe('apivol')
    const ls = await docker(['volume', 'ls', '--format', '{{.Name}} {{.Driver}}'])
    expect(ls.stdout).toContain('apivol local')
    expect((await docker(['volume', 'ls', '-q', '--filter', 'label=k=v'])).stdout.trim()).toBe('apivol')
    const inspect = await docker(['volume', 'inspect', '-f', '{{.Name}} {{.Labels.k}} {{.Scope}}', 'apivol'])
    expect(inspect.stdout.trim()).toBe('apivol v local')
    const raw = await api('GET', '/v1.41/volumes')
    expect(JSON.parse(raw.body)).toMatchObject({Volumes: [expect.objectContaining({Name: 'apivol', Driver: 'local'})], Warnings: []})
    expect((await ctr(['volume', 'ls', '-q'], {env: t.env})).stdout.trim()).toBe('apivol')

    const missing = await docker(['volume', 'inspect', 'novol'])
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toMatch(/no such volume/i)
    expect((await api('DELETE', '/volumes/novol')).status).toBe(404)
    expect((await api('POST', '/volumes/create', '[1]')).status).toBe(400)

    // in use by a container (created through the CLI): docker's 409
    const c = await ctr(['create', '-v', 'apivol:/data', busybox, 'true'], {env: t.env})
    expect(c.exitCode, c.stderr).toBe(0)
    const imageInUse = await api('DELETE', `/images/${busybox}`)
    expect(imageInUse.status).toBe(409)
    expect(JSON.parse(imageInUse.body).message).toMatch(/must be forced/)
    const inUse = await api('DELETE', '/volumes/apivol')
    expect(inUse.status).toBe(409)
    expect(JSON.parse(inUse.body).message).toContain('volume is in use')
    expect((await ctr(['rm', c.stdout.trim()], {env: t.env})).exitCode).toBe(0)

    expect((await docker(['volume', 'rm', 'apivol'])).exitCode).toBe(0)
    expect((await docker(['volume', 'create', 'unused'])).exitCode).toBe(0)
    const pruned = await api('POST', '/volumes/prune')
    expect(JSON.parse(pruned.body)).toMatchObject({VolumesDeleted: ['unused']})
    expect((await docker(['volume', 'ls', '-q'])).stdout.trim()).toBe('')
  })

  it('image prune -a removes every image no container uses', async () => {
    expect((await docker(['images', '-q'])).stdout.trim()).not.toBe('')
    const pruned = await docker(['image', 'prune', '-a', '-f'])
    expect(pruned.exitCode, pruned.stderr).toBe(0)
    expect(pruned.stdout).toMatch(/untagged: /i)
    expect(pruned.stdout).toMatch(/Total reclaimed space: /)
    expect((await docker(['images', '-q'])).stdout.trim()).toBe('')
  })
})
