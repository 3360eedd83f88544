/**
 * docker's everyday small commands end to end through the binary as the unprivileged user:
 * events (the journal written by the CLI and the shim), tag, history, rename, diff, top, stats,
 * pause/unpause, container prune, the `container`/`image` aliases, wait on several containers.
 */
import {describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

async function ok(args: string[]): Promise<string> {
  const r = await ctr(args, {env: env()})
  expect(r.stderr, `ctr-ts ${args.join(' ')}`).toBe('')
  expect(r.exitCode, `ctr-ts ${args.join(' ')}`).toBe(0)
  return r.stdout
}

interface Ev {
  status?: string
  id?: string
  from?: string
  Type: string
  Action: string
  Actor: {ID: string; Attributes: Record<string, string>}
  scope: string
  time: number
  timeNano: number
}

async function events(...args: string[]): Promise<Ev[]> {
  const out = await ok(['events', ...(args.includes('--since') ? [] : ['--since', '0']), ...(args.includes('--until') ? [] : ['--until', '0s']), '--format', 'json', ...args])
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Ev)
}

describe('events', () => {
  it('records create, start, die (exitCode from the shim), destroy, with docker JSON shape', async () => {
    const id = (await ok(['run', '-d', '--name', 'ev1', '--label', 'team=a', busybox, 'sh', '-c', 'exit 3'])).trim()
    expect(await ok(['wait', 'ev1'])).toBe('3\n')
    await ok(['rm', 'ev1'])
    const mine = (await events('--filter', `container=${id}`)).map((e) => e.Action)
    expect(mine).toEqual(['create', 'start', 'die', 'destroy'])
    const die = (await events('--filter', 'container=ev1', '--filter', 'event=die'))[0]!
    expect(die).toMatchObject({status: 'die', id, Type: 'container', Action: 'die', scope: 'local', from: busybox})
    expect(die.Actor).toEqual({ID: id, Attributes: {exitCode: '3', image: busybox, name: 'ev1', team: 'a'}})
    expect(die.time).toBe(Math.floor(die.timeNano / 1e9))
    // label filter, default line format
    const lines = (await ok(['events', '--since', '0', '--until', '0s', '--filter', 'label=team=a', '--filter', 'event=start'])).trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}(Z|[+-]\\d\\d:\\d\\d) container start ${id} \\(image=${busybox.replace(/[.]/g, '\\.')}, name=ev1, team=a\\)$`))
    // Go template
    expect(await ok(['events', '--since', '0', '--until', '0s', '--filter', 'container=ev1', '--filter', 'event=die', '--format', '{{.Actor.Attributes.name}} {{.Actor.Attributes.exitCode}}'])).toBe('ev1 3\n')
    // --rm: the shim's exit command records destroy
    await ok(['run', '--rm', '--name', 'ev-rm', busybox, 'true'])
    expect((await events('--filter', 'container=ev-rm')).map((e) => e.Action)).toEqual(['create', 'start', 'die', 'destroy'])
  })

  it('records stop and kill, and image tag/untag events; --since/--until select a window', async () => {
    await ok(['run', '-d', '--name', 'ev2', busybox, 'sleep', '60'])
    await ok(['stop', '-t', '1', 'ev2'])
    await ok(['start', 'ev2'])
    await ok(['kill', 'ev2'])
    await ok(['wait', 'ev2'])
    const actions = (await events('--filter', 'container=ev2')).map((e) => e.Action)
    // sleep as pid 1 ignores SIGTERM: stop sends it, then SIGKILL (two kill events, as docker)
    expect(actions).toEqual(['create', 'start', 'kill', 'kill', 'die', 'stop', 'start', 'kill', 'die'])
    const kill = (await events('--filter', 'container=ev2', '--filter', 'event=kill'))[0]!
    expect(kill.Actor.Attributes.signal).toBe('15')
    expect((await events('--filter', 'container=ev2', '--filter', 'event=kill'))[1]!.Actor.Attributes.signal).toBe('9')
    await ok(['rm', 'ev2'])

    const before = Date.now() / 1000
    await ok(['tag', busybox, 'localhost/evtag:v1'])
    await ok(['rmi', 'localhost/evtag:v1'])
    const img = await events('--since', String(before), '--filter', 'type=image')
    expect(img.map((e) => `${e.Action} ${e.Actor.Attributes.name}`)).toEqual(['tag localhost/evtag:v1', 'untag localhost/evtag:v1'])
    expect(await events('--since', String(before), '--until', String(before + 0.000001), '--filter', 'type=container')).toEqual([])
    expect(await events('--since', String(before), '--filter', 'image=localhost/evtag:v1')).toHaveLength(2)
  })

  it('follows new events until --until, and refuses bad arguments with one line', async () => {
    const until = (Date.now() + 6000) / 1000
    const follow = ctr(['events', '--until', until.toFixed(3), '--filter', 'event=create', '--format', '{{.Actor.Attributes.name}}'], {env: env()})
    await new Promise((r) => setTimeout(r, 1500))
    await ok(['create', '--name', 'ev3', busybox, 'true'])
    const r = await follow
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toBe('ev3\n')
    await ok(['rm', 'ev3'])

    const bad = await ctr(['events', '--filter', 'nope=1'], {env: env()})
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr.trim().split('\n')).toEqual(["ctr-ts: invalid filter 'nope'"])
    const badTime = await ctr(['events', '--since', 'yesterday'], {env: env()})
    expect(badTime.exitCode).not.toBe(0)
    expect(badTime.stderr).toMatch(/^ctr-ts: invalid value for --since: "yesterday"/)
  }, 60_000)
})

describe('image commands', () => {
  it('tag makes a second reference; a digest target is refused', async () => {
    await ok(['tag', busybox, 'example.com/team/bb'])
    const ids = (JSON.parse(await ok(['image', 'inspect', busybox, 'example.com/team/bb:latest'])) as Array<{Id: string}>).map((i) => i.Id)
    expect(ids).toHaveLength(2)
    expect(new Set(ids).size).toBe(1)
    await ok(['image', 'tag', 'example.com/team/bb', 'example.com/team/bb:two'])
    await ok(['rmi', 'example.com/team/bb', 'example.com/team/bb:two'])
    const bad = await ctr(['tag', busybox, `x/y@sha256:${'a'.repeat(64)}`], {env: env()})
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toMatch(/^ctr-ts: refusing to create a tag with a digest reference/)
    const missing = await ctr(['tag', 'nosuch:1', 'x:y'], {env: env()})
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toMatch(/no such image/)
  })

  it('history shows the config history newest first with docker columns, -q, --no-trunc, --format', async () => {
    const ml = testEnv().fixtures['multilayer-gzip']!
    await ok(['pull', '-q', ml.ref])
    const out = (await ok(['history', ml.ref])).trimEnd().split('\n')
    expect(out[0]).toMatch(/^IMAGE\s+CREATED\s+CREATED BY\s+SIZE\s+COMMENT$/)
    expect(out).toHaveLength(4)
    expect(out[1]).toMatch(new RegExp(`^${ml.configDigest.slice(7, 19)}\\s+\\S.* ago\\s+RUN rm /data/gone && rm -rf /data/dir && mkd…\\s+\\d`))
    expect(out[3]).toMatch(/^<missing>\s+.*ADD busybox-static rootfs \/\s+\d+(\.\d+)?[kM]?B/)
    expect(await ok(['history', '-q', ml.ref])).toBe(`${ml.configDigest.slice(7, 19)}\n<missing>\n<missing>\n`)
    const full = await ok(['history', '--no-trunc', '--format', '{{.ID}}|{{.CreatedBy}}', ml.ref])
    expect(full.split('\n')[0]).toBe(`${ml.configDigest}|RUN rm /data/gone && rm -rf /data/dir && mkdir /data/dir && echo new > /data/dir/new`)
    const json = JSON.parse((await ok(['image', 'history', '--format', 'json', '-H=false', ml.ref])).split('\n')[1]!) as Record<string, string>
    expect(json).toMatchObject({ID: '<missing>', CreatedBy: 'ADD data /', CreatedAt: '2024-01-01T00:00:00Z'})
    expect(Number(json.Size)).toBeGreaterThan(0)
  })
})

describe('container commands', () => {
  it('rename a running container: the new name works, the old is free again', async () => {
    await ok(['run', '-d', '--name', 'rn1', busybox, 'sleep', '60'])
    await ok(['container', 'rename', 'rn1', 'rn2'])
    expect((await ok(['ps', '--format', 'json'])).includes('"rn2"')).toBe(true)
    expect((await ok(['exec', 'rn2', 'echo', 'hi']))).toBe('hi\n')
    const taken = await ctr(['rename', 'rn2', 'rn2'], {env: env()})
    expect(taken.exitCode).not.toBe(0)
    await ok(['create', '--name', 'rn1', busybox, 'true'])
    const conflict = await ctr(['rename', 'rn2', 'rn1'], {env: env()})
    expect(conflict.exitCode).not.toBe(0)
    expect(conflict.stderr).toMatch(/name "rn1" is already in use/)
    await ok(['rm', '-f', 'rn1', 'rn2'])
    const ev = await events('--filter', 'event=rename')
    expect(ev.at(-1)!.Actor.Attributes).toMatchObject({name: 'rn2', oldName: '/rn1'})
  })

  it('diff lists added, changed and deleted paths from the upper dir, on a stopped container too', async () => {
    await ok(['run', '--name', 'df', busybox, 'sh', '-c', 'echo x > /tmp/new && echo y >> /etc/passwd && rm /bin/vi && mkdir -p /root/d && touch /root/d/f && chown 1000:1000 /root/d && chmod 700 /root/d'])
    expect(await ok(['container', 'diff', 'df'])).toBe(['C /bin', 'D /bin/vi', 'C /etc', 'C /etc/passwd', 'C /root', 'A /root/d', 'A /root/d/f', 'C /tmp', 'A /tmp/new', ''].join('\n'))
    await ok(['rm', 'df'])
  })

  it('top shows the container processes with ps columns; ps options are passed through', async () => {
    await ok(['run', '-d', '--name', 'tp', busybox, 'sh', '-c', 'sleep 61 & sleep 62; echo'])
    await new Promise((r) => setTimeout(r, 500))
    const out = (await ok(['top', 'tp'])).trimEnd().split('\n')
    expect(out[0]).toMatch(/^UID\s+PID\s+PPID\s+C\s+STIME\s+TTY\s+TIME\s+CMD$/)
    expect(out.slice(1).map((l) => l.replace(/^.*\d\d:\d\d:\d\d\s+/, ''))).toEqual(['sh -c sleep 61 & sleep 62; echo', 'sleep 61', 'sleep 62'])
    const custom = (await ok(['container', 'top', 'tp', '-o', 'pid,args'])).trimEnd().split('\n')
    expect(custom[0]).toMatch(/^PID\s+COMMAND$/)
    expect(custom).toHaveLength(4)
    const missing = await ctr(['top', 'nosuch'], {env: env()})
    expect(missing.exitCode).not.toBe(0)
    await ok(['rm', '-f', 'tp'])
  })

  it('stats --no-stream reads CPU, memory, PIDs, net and block I/O from /proc; --format and --all', async () => {
    await ok(['run', '-d', '--name', 'st', busybox, 'sh', '-c', 'while :; do :; done'])
    await ok(['create', '--name', 'st-created', busybox, 'true'])
    const table = (await ok(['stats', '--no-stream'])).trimEnd().split('\n')
    expect(table[0]).toMatch(/^CONTAINER ID\s+NAME\s+CPU %\s+MEM USAGE \/ LIMIT\s+MEM %\s+NET I\/O\s+BLOCK I\/O\s+PIDS$/)
    expect(table.some((l) => / st /.test(l))).toBe(true)
    const row = JSON.parse(await ok(['stats', '--no-stream', '--format', 'json', 'st'])) as Record<string, string>
    expect(row.Name).toBe('st')
    expect(row.Container).toBe('st')
    expect(Number.parseFloat(row.CPUPerc!)).toBeGreaterThan(20) // a busy loop
    expect(row.MemUsage).toMatch(/^\d+(\.\d+)?(B|KiB|MiB) \/ \d+(\.\d+)?GiB$/)
    expect(row.PIDs).toBe('1')
    expect(row.NetIO).toMatch(/^\d+(\.\d+)?k?B \/ \d+(\.\d+)?k?B$/)
    expect(row.BlockIO).toMatch(/^(\d+(\.\d+)?[kMG]?B \/ \d+(\.\d+)?[kMG]?B|--)$/)
    // streaming: a new table every second until interrupted
    const stream = ctrSpawn(['stats', '--format', '{{.Name}} {{.PIDs}}', 'st'], {env: env()})
    let streamed = ''
    stream.stdout!.setEncoding('utf8').on('data', (d: string) => (streamed += d))
    await new Promise((r) => setTimeout(r, 4500))
    stream.kill('SIGINT')
    const code = await new Promise<number | null>((r) => stream.on('close', (c) => r(c)))
    expect(code).toBe(0)
    expect(streamed.split('\n').filter((l) => l === 'st 1').length).toBeGreaterThanOrEqual(2)
    const all = await ok(['stats', '--all', '--no-stream', '--format', '{{.Name}}={{.PIDs}}'])
    expect(all.split('\n')).toContain('st-created=0')
    expect(all.split('\n')).toContain('st=1')
    await ok(['rm', '-f', 'st', 'st-created'])
  })

  it('pause on cgroup v1 is one clear error line; unpause too', async () => {
    await ok(['run', '-d', '--name', 'pz', busybox, 'sleep', '60'])
    for (const cmd of ['pause', 'unpause']) {
      const r = await ctr([cmd, 'pz'], {env: env()})
      expect(r.exitCode).not.toBe(0)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/cgroup v2 freezer.*cgroup v1/)
    }
    expect(await ok(['exec', 'pz', 'echo', 'still running'])).toBe('still running\n')
    await ok(['rm', '-f', 'pz'])
  })

  it('container prune removes stopped containers the filters select', async () => {
    await ok(['create', '--name', 'pr-a', '--label', 'stage=ci', busybox, 'true'])
    await ok(['create', '--name', 'pr-b', '--label', 'stage=ci', '--label', 'keep=1', busybox, 'true'])
    await ok(['create', '--name', 'pr-c', busybox, 'true'])
    await ok(['run', '-d', '--name', 'pr-run', '--label', 'stage=ci', busybox, 'sleep', '60'])
    const idA = (JSON.parse(await ok(['inspect', 'pr-a'])) as Array<{Id: string}>)[0]!.Id
    const out = await ok(['container', 'prune', '-f', '--filter', 'label=stage=ci', '--filter', 'label!=keep'])
    expect(out).toBe(`Deleted Containers:\n${idA}\n\n`)
    expect(await ok(['container', 'prune', '-f', '--filter', 'until=1h'])).toBe('')
    const exists = async (n: string) => (await ctr(['inspect', n], {env: env()})).exitCode === 0
    expect(await Promise.all(['pr-a', 'pr-b', 'pr-c', 'pr-run'].map(exists))).toEqual([false, true, true, true])
    await ok(['container', 'prune', '-f'])
    expect((await ok(['container', 'list', '-a', '-q'])).trim().split('\n')).toHaveLength(1)
    await ok(['container', 'rm', '-f', 'pr-run'])
  })

  it('logs --since/--until select by the recorded timestamps; --details adds the (empty) attributes', async () => {
    await ok(['run', '--name', 'lg', busybox, 'sh', '-c', 'echo first; sleep 2; echo second'])
    const stamped = (await ok(['logs', '-t', 'lg'])).trim().split('\n')
    expect(stamped).toHaveLength(2)
    const secondAt = stamped[1]!.split(' ')[0]!
    expect(await ok(['logs', '--since', secondAt, 'lg'])).toBe('second\n')
    expect(await ok(['logs', '--until', secondAt, 'lg'])).toBe('first\nsecond\n')
    const firstMs = Date.parse(stamped[0]!.split(' ')[0]!)
    expect(await ok(['logs', '--until', String((firstMs + 1000) / 1000), 'lg'])).toBe('first\n')
    expect(await ok(['logs', '--since', String((firstMs + 1000) / 1000), 'lg'])).toBe('second\n')
    expect(await ok(['logs', '--since', '1h', 'lg'])).toBe('first\nsecond\n')
    expect(await ok(['logs', '--since', '0s', 'lg'])).toBe('')
    expect(await ok(['logs', '--details', 'lg'])).toBe(' first\n second\n')
    expect(await ok(['container', 'logs', '--details', '-t', '--tail', '1', 'lg'])).toBe(`${secondAt}  second\n`)
    const bad = await ctr(['logs', '--since', 'soon', 'lg'], {env: env()})
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toMatch(/^ctr-ts: invalid value for --since: "soon"/)
    await ok(['rm', 'lg'])
  })

  it('wait on several containers prints each exit code in order', async () => {
    await ok(['run', '-d', '--name', 'w1', busybox, 'sh', '-c', 'sleep 1; exit 4'])
    await ok(['run', '-d', '--name', 'w2', busybox, 'sh', '-c', 'exit 7'])
    expect(await ok(['container', 'wait', 'w1', 'w2'])).toBe('4\n7\n')
    await ok(['rm', 'w1', 'w2'])
  })
})
