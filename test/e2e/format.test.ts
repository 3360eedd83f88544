/**
 * Output and selection as docker has them, through the real binary as the unprivileged user:
 * the Go templates docker documents for ps, images and inspect (table-driven), docker's inspect
 * field names, --filter on ps/images/prune, ps -n/-l/-s/--no-trunc, several names for inspect,
 * docker's exit codes outside run/create/exec, and the last of a repeated flag winning.
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string
const env = () => t.env
const run = (args: string[]) => ctr(args, {env: env()})

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

/** The repository and tag of the fixture reference (host:port/busybox:tag). */
const repoTag = () => {
  const i = busybox.lastIndexOf(':')
  return {repo: busybox.slice(0, i), tag: busybox.slice(i + 1)}
}

const ids: Record<string, string> = {}

beforeAll(async () => {
  // oldest first: web (running), job (exited 3), fresh (created)
  const web = await run(['run', '-d', '--name', 'fmt-web', '--label', 'tier=web', '--label', 'version=1', '-e', 'GREETING=hi', busybox, 'sleep', '3600'])
  expect(web.exitCode, web.stderr).toBe(0)
  ids.web = web.stdout.trim()
  await new Promise((r) => setTimeout(r, 20))
  const job = await run(['run', '--name', 'fmt-job', '--network', 'none', '--label', 'tier=batch', busybox, 'sh', '-c', 'exit 3'])
  expect(job.exitCode, job.stderr).toBe(3)
  await new Promise((r) => setTimeout(r, 20))
  const fresh = await run(['create', '--name', 'fmt-old', '--name', 'fmt-fresh', '--network', 'none', busybox, 'true'])
  expect(fresh.exitCode, fresh.stderr).toBe(0)
  ids.fresh = fresh.stdout.trim()
  ids.job = (await run(['ps', '-a', '-q', '--no-trunc', '--filter', 'name=^fmt-job$'])).stdout.trim()
}, 120_000)

afterAll(async () => {
  await run(['rm', '-f', 'fmt-web', 'fmt-job', 'fmt-fresh'])
})

const lines = (s: string) => s.split('\n').filter(Boolean)

describe('ps --format: docker\'s documented templates', () => {
  const cases: Array<[string[], (out: string) => void]> = [
    [['-a', '--format', '{{.Names}}'], (o) => expect(lines(o)).toEqual(['fmt-fresh', 'fmt-job', 'fmt-web'])],
    [['--format', '{{.ID}}: {{.Command}}'], (o) => expect(o).toBe(`${ids.web!.slice(0, 12)}: "sleep 3600"\n`)],
    [['--format', 'table {{.ID}}\\t{{.Labels}}'], (o) => expect(lines(o)).toEqual(['CONTAINER ID   LABELS', `${ids.web!.slice(0, 12)}   tier=web,version=1`])],
    [['-a', '--format', 'table {{.Names}}\\t{{.Label "tier"}}'], (o) => expect(lines(o).map((l) => l.trimEnd().split(/\s{3,}/))).toEqual([['NAMES', 'LABEL'], ['fmt-fresh'], ['fmt-job', 'batch'], ['fmt-web', 'web']])],
    [['-a', '--format', '{{.Names}} {{.State}} {{.Status}}'], (o) => {
      expect(lines(o)[0]).toBe('fmt-fresh created Created')
      expect(lines(o)[1]).toMatch(/^fmt-job exited Exited \(3\) .* ago$/)
      expect(lines(o)[2]).toMatch(/^fmt-web running Up /)
    }],
    [['--format', '{{upper .Names}} {{join (split .Labels ",") ";"}} {{.Networks}} {{.Image}}'], (o) => expect(o).toBe(`FMT-WEB tier=web;version=1 slirp4netns ${busybox}\n`)],
    [['--format', '{{if eq .State "running"}}up{{else}}down{{end}} {{len .Names}}'], (o) => expect(o).toBe('up 7\n')],
    [['--format', '{{.CreatedAt}}|{{.RunningFor}}'], (o) => expect(o).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC\|.* ago\n$/)],
    [['--format', 'table'], (o) => expect(lines(o)[0]).toMatch(/^CONTAINER ID\s+IMAGE\s+COMMAND\s+CREATED\s+STATUS\s+PORTS\s+NAMES$/)],
    [['-s'], (o) => expect(lines(o)[0]).toMatch(/\s+NAMES\s+SIZE$/)],
    [['--no-trunc', '--format', '{{.ID}}'], (o) => expect(o).toBe(`${ids.web}\n`)],
  ]
  for (const [args, check] of cases) {
    it(`ps ${args.join(' ')}`, async () => {
      const r = await run(['ps', ...args])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stderr).toBe('')
      check(r.stdout)
    })
  }

  it('--format json is one JSON object per line with docker\'s keys', async () => {
    const r = await run(['ps', '-a', '--format', 'json'])
    expect(r.exitCode, r.stderr).toBe(0)
    const rows = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, string>)
    expect(rows.map((x) => x.Names)).toEqual(['fmt-fresh', 'fmt-job', 'fmt-web'])
    expect(Object.keys(rows[0]!)).toEqual(['Command', 'CreatedAt', 'ID', 'Image', 'Labels', 'LocalVolumes', 'Mounts', 'Names', 'Networks', 'Ports', 'RunningFor', 'Size', 'State', 'Status'])
    expect(rows[2]).toMatchObject({ID: ids.web!.slice(0, 12), State: 'running', Labels: 'tier=web,version=1', Command: '"sleep 3600"'})
  })

  it('an unknown field is one line, exit 1, nothing on stdout', async () => {
    const r = await run(['ps', '--format', '{{.Nope}}'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim()).toBe('ctr-ts: template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type PsRow')
    const bad = await run(['ps', '--format', '{{.Names'])
    expect(bad.exitCode).toBe(1)
    expect(lines(bad.stderr)).toHaveLength(1)
    expect(bad.stderr).toMatch(/^ctr-ts: template parsing error: template: :1: unclosed action/)
  })
})

describe('ps --filter, -n, -l', () => {
  const cases: Array<[string[], string[]]> = [
    [['--filter', 'status=exited'], ['fmt-job']],
    [['--filter', 'status=exited', '--filter', 'status=created'], ['fmt-fresh', 'fmt-job']],
    [['-a', '--filter', 'label=tier'], ['fmt-job', 'fmt-web']],
    [['-a', '--filter', 'label=tier=web'], ['fmt-web']],
    [['-a', '--filter', 'label=tier', '--filter', 'label=version=1'], ['fmt-web']],
    [['-a', '--filter', 'label=tier=batch', '--filter', 'status=running'], []],
    [['-a', '--filter', 'name=fmt-'], ['fmt-fresh', 'fmt-job', 'fmt-web']],
    [['-a', '--filter', 'name=^fmt-j'], ['fmt-job']],
    [['-a', '--filter', 'name=job', '--filter', 'name=web'], ['fmt-job', 'fmt-web']],
    [['-a', '--filter', 'exited=3'], ['fmt-job']],
    [['-a', '--filter', 'exited=0'], []],
    [['-a', '--filter', 'before=fmt-fresh'], ['fmt-job', 'fmt-web']],
    [['-a', '--filter', 'since=fmt-web'], ['fmt-fresh', 'fmt-job']],
    [['-a', '--filter', 'network=none'], ['fmt-fresh', 'fmt-job']],
    [['-a', '--filter', 'volume=/data'], []],
    [['--filter', 'label=tier'], ['fmt-web']],
    [['-n', '2'], ['fmt-fresh', 'fmt-job']],
    [['-l'], ['fmt-fresh']],
    [['--last', '1', '--filter', 'status=exited'], ['fmt-job']],
    [['--all'], ['fmt-fresh', 'fmt-job', 'fmt-web']],
  ]
  for (const [args, want] of cases) {
    it(`ps ${args.join(' ')} → ${want.join(',') || 'none'}`, async () => {
      const r = await run(['ps', ...args, '--format', '{{.Names}}'])
      expect(r.exitCode, r.stderr).toBe(0)
      expect(lines(r.stdout)).toEqual(want)
    })
  }

  it('ancestor: the image reference or its id', async () => {
    const id = (await run(['image', 'inspect', '-f', '{{.Id}}', busybox])).stdout.trim()
    for (const v of [busybox, id, id.replace('sha256:', '').slice(0, 12)]) {
      const r = await run(['ps', '-a', '-q', '--filter', `ancestor=${v}`])
      expect(lines(r.stdout), v).toHaveLength(3)
    }
    expect((await run(['ps', '-a', '-q', '--filter', 'ancestor=nosuch:1'])).stdout).toBe('')
  })

  it('-q --filter as CI scripts use it', async () => {
    const r = await run(['ps', '-aq', '--filter', 'label=tier=batch'])
    expect(r.stdout).toBe(`${ids.job!.slice(0, 12)}\n`)
  })

  it.each([
    [['--filter', 'nope=1'], "ctr-ts: invalid filter 'nope'"],
    [['--filter', 'status=sleeping'], "ctr-ts: invalid filter 'status=sleeping'"],
    [['--filter', 'name'], 'ctr-ts: bad format of filter (expected name=value): name'],
  ])('a bad filter %j: one line, exit 1', async (args, message) => {
    const r = await run(['ps', ...args])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim()).toBe(message)
  })
})

describe('inspect: docker\'s schema and templates', () => {
  const cases: Array<[string, string, string | RegExp | (() => string)]> = [
    ['fmt-web', '{{.State.Status}}', 'running'],
    ['fmt-web', '{{.State.Running}} {{.State.Paused}} {{.State.Restarting}} {{.State.OOMKilled}} {{.State.Dead}}', 'true false false false false'],
    ['fmt-web', '{{.Name}}', '/fmt-web'],
    ['fmt-web', '{{.Id}}', () => ids.web!],
    ['fmt-web', '{{gt .State.Pid 0}} {{.State.ExitCode}} {{.State.Error}}|', 'true 0 |'],
    ['fmt-web', '{{.State.StartedAt}}', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/],
    ['fmt-web', '{{.State.FinishedAt}}', '0001-01-01T00:00:00Z'],
    ['fmt-web', '{{.Path}} {{json .Args}}', 'sleep ["3600"]'],
    ['fmt-web', '{{.Config.Image}} {{json .Config.Cmd}} {{json .Config.Entrypoint}}', () => `${busybox} ["sleep","3600"] null`],
    ['fmt-web', '{{range .Config.Env}}{{if eq . "GREETING=hi"}}{{.}}{{end}}{{end}}', 'GREETING=hi'],
    ['fmt-web', '{{index .Config.Labels "tier"}} {{.Config.Labels.version}} {{json .Config.Labels}}', 'web 1 {"tier":"web","version":"1"}'],
    ['fmt-web', '{{.HostConfig.AutoRemove}} {{.HostConfig.NetworkMode}} {{.HostConfig.RestartPolicy.Name}}', 'false slirp4netns no'],
    ['fmt-web', '{{.NetworkSettings.IPAddress}} {{.NetworkSettings.Gateway}}', '10.0.2.100 10.0.2.2'],
    ['fmt-web', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', '10.0.2.100'],
    ['fmt-web', '{{range $name, $net := .NetworkSettings.Networks}}{{$name}}{{end}}', 'slirp4netns'],
    ['fmt-web', '{{json .NetworkSettings.Ports}} {{json .Mounts}} {{.RestartCount}}', '{} [] 0'],
    ['fmt-web', '{{.Driver}} {{.Platform}} {{.HostsPath}}', /^fuse-overlayfs linux \/.*\/hosts$/],
    ['fmt-web', '{{.LogPath}}', /^\/.+/],
    ['fmt-job', '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}} {{.State.Pid}}', 'exited false 3 0'],
    ['fmt-job', '{{.State.FinishedAt}}', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/],
    ['fmt-job', '{{.NetworkSettings.IPAddress}}|{{.HostConfig.NetworkMode}}', '|none'],
    ['fmt-fresh', '{{.State.Status}} {{.State.StartedAt}}', 'created 0001-01-01T00:00:00Z'],
    ['fmt-fresh', '{{.Name}}', '/fmt-fresh'],
  ]
  for (const [name, template, want] of cases) {
    it(`inspect -f '${template}' ${name}`, async () => {
      const r = await run(['inspect', '-f', template, name])
      expect(r.exitCode, r.stderr).toBe(0)
      const expected = typeof want === 'function' ? want() : want
      if (expected instanceof RegExp) expect(r.stdout.trimEnd()).toMatch(expected)
      else expect(r.stdout).toBe(`${expected}\n`)
    })
  }

  it('the JSON has docker\'s top-level fields in docker\'s order, and keeps ctr-ts\'s', async () => {
    const r = await run(['inspect', 'fmt-web'])
    expect(r.exitCode, r.stderr).toBe(0)
    const [doc] = JSON.parse(r.stdout) as Array<Record<string, unknown>>
    expect(Object.keys(doc!).slice(0, 4)).toEqual(['Id', 'Created', 'Path', 'Args'])
    for (const k of ['State', 'Image', 'ResolvConfPath', 'HostnamePath', 'HostsPath', 'LogPath', 'Name', 'RestartCount', 'Driver', 'Platform', 'MountLabel', 'HostConfig', 'Mounts', 'Config', 'NetworkSettings', 'GraphDriver']) {
      expect(doc, k).toHaveProperty(k)
    }
    expect((doc!.State as {ShimPid: number}).ShimPid).toBeGreaterThan(0)
    expect(doc!.ImageName).toBe(busybox)
    expect(r.stdout).toMatch(/^\[\n {4}\{\n {8}"Id": /)
  })

  it('-s adds SizeRw and SizeRootFs', async () => {
    const r = await run(['inspect', '-s', '-f', '{{ge .SizeRw 0}} {{gt .SizeRootFs 0}} {{ge .SizeRootFs .SizeRw}}', 'fmt-web'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('true true true\n')
  })

  it('-f json and --format are the same JSON', async () => {
    const a = await run(['inspect', 'fmt-job'])
    const b = await run(['container', 'inspect', '--format', 'json', 'fmt-job'])
    expect(b.stdout).toBe(a.stdout)
  })

  it('several names: found ones printed, one line per unknown one, exit 1', async () => {
    const r = await run(['inspect', '-f', '{{.Name}}', 'fmt-web', 'nosuch', 'fmt-job'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('/fmt-web\n/fmt-job\n')
    expect(r.stderr.trim()).toBe('ctr-ts: no such object: nosuch')
    const json = await run(['inspect', 'nosuch'])
    expect(json.exitCode).toBe(1)
    expect(json.stdout).toBe('[]\n')
  })

  it('--type picks the kind; without it an image name finds the image', async () => {
    const img = await run(['inspect', '-f', '{{.Os}} {{index .RepoTags 0}}', busybox])
    expect(img.exitCode, img.stderr).toBe(0)
    expect(img.stdout).toBe(`linux ${busybox}\n`)
    const asContainer = await run(['inspect', '--type', 'container', busybox])
    expect(asContainer.exitCode).toBe(1)
    expect(asContainer.stderr).toMatch(/no such container/)
    const asImage = await run(['inspect', '--type', 'image', '-f', '{{.Id}}', 'fmt-web'])
    expect(asImage.exitCode).toBe(1)
    expect(asImage.stderr).toMatch(/no such image: fmt-web/)
  })

  it('an unknown field fails as docker: one line, exit 1', async () => {
    const r = await run(['inspect', '-f', '{{.Nope}}', 'fmt-web'])
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(lines(r.stderr)).toEqual(['ctr-ts: template parsing error: template: :1:2: executing "" at <.Nope>: can\'t evaluate field Nope in type struct'])
  })
})

describe('images and image inspect', () => {
  it.each([
    ['{{.Repository}}:{{.Tag}}', () => `${repoTag().repo}:${repoTag().tag}\n`],
    ['table {{.Repository}}\\t{{.Tag}}', () => new RegExp(`^REPOSITORY {3,}TAG\\n${repoTag().repo.replace(/[.]/g, '\\.')} {3}${repoTag().tag}\\n$`)],
    ['{{.ID}} {{.Size}} {{.Digest}}', () => new RegExp(`^[0-9a-f]{12} \\d+(\\.\\d+)?[kM]?B sha256:[0-9a-f]{64}\\n$`)],
    ['{{.CreatedSince}}', () => /^\d+ (months|years|weeks) ago\n$/],
  ])("images --format '%s'", async (template, want) => {
    const r = await run(['images', '--format', template])
    expect(r.exitCode, r.stderr).toBe(0)
    const w = want()
    if (w instanceof RegExp) expect(r.stdout).toMatch(w)
    else expect(r.stdout).toBe(w)
  })

  it('--format json: JSON lines with docker\'s keys; -a lists the same', async () => {
    const r = await run(['images', '-a', '--format', 'json'])
    const rows = lines(r.stdout).map((l) => JSON.parse(l) as Record<string, string>)
    expect(rows).toHaveLength(1)
    expect(Object.keys(rows[0]!)).toEqual(['Containers', 'CreatedAt', 'CreatedSince', 'Digest', 'ID', 'Repository', 'SharedSize', 'Size', 'Tag', 'UniqueSize', 'VirtualSize'])
    expect(rows[0]!.Repository).toBe(repoTag().repo)
  })

  it.each([
    [['--filter', 'dangling=true'], 0],
    [['--filter', 'dangling=false'], 1],
    [['--filter', 'label=org.opencontainers.image.title'], 1],
    [['--filter', 'label=org.opencontainers.image.title=other'], 0],
    [['--filter', () => `reference=${repoTag().repo}`], 1],
    [['--filter', () => `reference=${repoTag().repo.replace(/busybox$/, 'busy*')}:*`], 1],
    [['--filter', 'reference=alpine'], 0],
  ] as Array<[Array<string | (() => string)>, number]>)('images %j lists %d', async (args, n) => {
    const r = await run(['images', '-q', ...args.map((a) => (typeof a === 'function' ? a() : a))])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(lines(r.stdout)).toHaveLength(n)
  })

  it('images: a bad filter is one line, exit 1', async () => {
    const r = await run(['images', '--filter', 'dangling=maybe'])
    expect(r.exitCode).toBe(1)
    expect(r.stderr.trim()).toBe("ctr-ts: invalid filter 'dangling=maybe'")
  })

  it('image inspect: docker\'s ImageInspect fields and templates', async () => {
    const r = await run(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}} {{json .Config.Cmd}} {{len .RootFS.Layers}} {{.RootFS.Type}} {{gt .Size 0}} {{index .Config.Labels "org.opencontainers.image.title"}}', busybox])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^linux\/\w+ \["sh"\] \d+ layers true ctr-ts test fixture\n$/)
    const [doc] = JSON.parse((await run(['image', 'inspect', busybox])).stdout) as Array<Record<string, unknown>>
    expect(Object.keys(doc!).slice(0, 3)).toEqual(['Id', 'RepoTags', 'RepoDigests'])
    for (const k of ['Parent', 'Comment', 'Created', 'Author', 'Config', 'Architecture', 'Os', 'Size', 'VirtualSize', 'GraphDriver', 'RootFS', 'Metadata']) expect(doc, k).toHaveProperty(k)
  })
})

describe('port, version, system info --format', () => {
  it('version --format', async () => {
    const r = await run(['version', '--format', '{{.Client.Version}} {{.Server.Version}} {{.Client.Os}}'])
    expect(r.stdout).toMatch(/^\d+\.\d+\.\d+ \d+\.\d+\.\d+ linux\n$/)
    expect(JSON.parse((await run(['version', '--format', 'json'])).stdout).Client.Version).toMatch(/^\d/)
  })

  it('system info --format', async () => {
    const r = await run(['system', 'info', '--format', '{{.Containers}} {{.ContainersRunning}} {{.ContainersStopped}} {{.Images}} {{.Driver}} {{.OSType}}'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('3 1 2 1 fuse-overlayfs linux\n')
  })

  it('port --format on a container without published ports prints nothing', async () => {
    const r = await run(['port', 'fmt-web', '--format', '{{.HostPort}}'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toBe('')
  })
})

describe('docker\'s exit codes and flags', () => {
  it.each([
    [['rm', 'nosuch']],
    [['rmi', 'nosuch:1']],
    [['inspect', 'nosuch']],
    [['stop', 'nosuch']],
    [['logs', 'nosuch']],
    [['image', 'inspect', 'nosuch:1']],
  ])('%j exits 1 (125 belongs to run/create/exec)', async (args) => {
    const r = await run(args)
    expect(r.exitCode).toBe(1)
    expect(lines(r.stderr)).toHaveLength(1)
  })

  it('run and create keep 125; an unknown flag is 125 everywhere', async () => {
    expect((await run(['run', '--network', 'bogus', busybox])).exitCode).toBe(125)
    expect((await run(['create', '--network', 'bogus', busybox])).exitCode).toBe(125)
    expect((await run(['ps', '--bogus'])).exitCode).toBe(125)
  })

  it('the last of a repeated single-value flag wins', async () => {
    expect((await run(['inspect', '-f', '{{.Name}}', 'fmt-fresh'])).stdout).toBe('/fmt-fresh\n')
    const r = await run(['ps', '-a', '--format', 'json', '--format', '{{.Names}}', '--filter', 'name=fmt-web'])
    expect(r.stdout).toBe('fmt-web\n')
  })
})

describe('prune --filter, rm -a', () => {
  it('system prune --filter label=... removes only the stopped containers it matches', async () => {
    const bad = await run(['system', 'prune', '-f', '--filter', 'until=someday'])
    expect(bad.exitCode).toBe(1)
    expect(bad.stderr.trim()).toBe('ctr-ts: failed to parse value as time or duration: "someday"')
    const r = await run(['system', 'prune', '-f', '--filter', 'label=tier=batch'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toContain(ids.job!)
    expect(lines((await run(['ps', '-a', '--format', '{{.Names}}'])).stdout)).toEqual(['fmt-fresh', 'fmt-web'])
    const none = await run(['system', 'prune', '-f', '--filter', 'until=1h'])
    expect(none.stdout).not.toContain(ids.fresh!)
    expect(lines((await run(['ps', '-a', '--format', '{{.Names}}'])).stdout)).toEqual(['fmt-fresh', 'fmt-web'])
  })

  it('rm -a refuses the running one without -f, removes the others; -a -f removes all', async () => {
    const r = await run(['rm', '-a'])
    expect(r.exitCode).toBe(1)
    expect(lines((await run(['ps', '-a', '--format', '{{.Names}}'])).stdout)).toEqual(['fmt-web'])
    const f = await run(['rm', '-a', '-f'])
    expect(f.exitCode, f.stderr).toBe(0)
    expect((await run(['ps', '-a', '-q'])).stdout).toBe('')
  })
})

describe('published ports in inspect, ps and port templates', () => {
  it('docker\'s documented NetworkSettings.Ports template, PortBindings, {{.Ports}}, port --format', async () => {
    const r = await run(['run', '-d', '--name', 'fmt-pub', '-p', '80', busybox, 'sleep', '300'])
    expect(r.exitCode, r.stderr).toBe(0)
    try {
      const i = await run(['inspect', '-f', '{{range $p, $conf := .NetworkSettings.Ports}}{{$p}} -> {{(index $conf 0).HostPort}}{{end}}|{{json .HostConfig.PortBindings}}|{{json .Config.ExposedPorts}}', 'fmt-pub'])
      expect(i.exitCode, i.stderr).toBe(0)
      const m = /^80\/tcp -> (\d+)\|\{"80\/tcp":\[\{"HostIp":"0\.0\.0\.0","HostPort":""\}\]\}\|\{"80\/tcp":\{\}\}\n$/.exec(i.stdout)
      expect(m, i.stdout).not.toBeNull()
      const hostPort = m![1]!
      expect(Number(hostPort)).toBeGreaterThan(0)
      expect((await run(['ps', '--filter', 'name=fmt-pub', '--format', '{{.Ports}}'])).stdout).toBe(`0.0.0.0:${hostPort}->80/tcp\n`)
      expect((await run(['port', 'fmt-pub', '--format', '{{.ContainerPort}} {{.HostIp}} {{.HostPort}}'])).stdout).toBe(`80/tcp 0.0.0.0 ${hostPort}\n`)
      const json = lines((await run(['port', 'fmt-pub', '--format', 'json'])).stdout).map((l) => JSON.parse(l) as Record<string, string>)
      expect(json).toEqual([{ContainerPort: '80/tcp', HostIp: '0.0.0.0', HostPort: hostPort}])
    } finally {
      await run(['rm', '-f', 'fmt-pub'])
    }
  })
})
