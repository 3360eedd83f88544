/**
 * The rest of the container lifecycle end to end, through the real binary as the unprivileged
 * user: attach and detach (with and without a terminal), signals, exec variants, start -ai,
 * a killed CLI or shim, refused resource flags and runtimes, names, ps and inspect.
 * (test/e2e/run.test.ts covers run, logs -f, stop, create/start -a, --init and the basic -it.)
 */
import {type ChildProcess, spawn} from 'node:child_process'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CLI, ctr, ctrSpawn, REPO_ROOT, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

/** Processes whose command line mentions `needle` (this test process excluded). */
function processesMentioning(needle: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
      if (cmd.includes(needle) && !cmd.includes('vitest')) out.push(`${pid} ${cmd}`)
    } catch {
      // exited meanwhile
    }
  }
  return out
}

/**
 * The port proxy of a container: started with `--pid` of the process whose network namespace it
 * serves, the container's init, or the shim when the container joins the shim's namespace (the
 * default network).
 */
function portProxyOf(st: {State: {Pid: number; ShimPid: number}}): string[] {
  return [...processesMentioning(`--pid ${st.State.Pid} `), ...processesMentioning(`--pid ${st.State.ShimPid} `)]
}

/** Alive and not a zombie. */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!)
  } catch {
    return false
  }
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

interface Inspected {
  Id: string
  Name: string
  State: {Status: string; Running: boolean; Pid: number; ShimPid: number; ExitCode: number}
  Config: {Env: string[]; Tty: boolean; OpenStdin: boolean}
  HostConfig: {AutoRemove: boolean; Init: boolean; NetworkMode: string; Runtime: string}
}

async function inspect(name: string): Promise<Inspected> {
  const r = await ctr(['inspect', name], {env: env()})
  expect(r.exitCode).toBe(0)
  return (JSON.parse(r.stdout) as Inspected[])[0]!
}

async function psAll(): Promise<string[]> {
  return (await ctr(['ps', '-a', '-q', '--no-trunc'], {env: env()})).stdout.split('\n').filter(Boolean)
}

async function runD(args: string[]): Promise<string> {
  const r = await ctr(['run', '-d', ...args], {env: env()})
  expect(r.stderr).toBe('')
  expect(r.exitCode).toBe(0)
  return r.stdout.trim()
}

/** Nothing of the container is left: no process, no directory, no runtime state, no name. */
function expectGone(id: string, extraPids: number[] = []): void {
  expect(processesMentioning(id)).toEqual([])
  expect(processesMentioning(join(t.runRoot, 'c', id.slice(0, 12)))).toEqual([])
  for (const pid of extraPids) expect(alive(pid), `pid ${pid} still alive`).toBe(false)
  expect(existsSync(join(t.root, 'containers', id))).toBe(false)
  expect(existsSync(join(t.runRoot, 'c', id.slice(0, 12)))).toBe(false)
  expect(existsSync(join(t.runRoot, 'runc', id))).toBe(false)
}

/**
 * The CLI under a pseudo-terminal (util-linux `script`), as in a user's terminal; input is
 * written when asked, output collected.
 */
class PtySession {
  readonly child: ChildProcess
  output = ''
  readonly exited: Promise<number>

  constructor(args: string[]) {
    const envs = Object.entries({...env(), NO_COLOR: '1'})
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    const quoted = args.map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ')
    this.child = spawn('script', ['-qec', `stty rows 30 cols 100; env ${envs} ${process.execPath} ${CLI} ${quoted}`, '/dev/null'], {
      cwd: REPO_ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    this.child.stdout!.on('data', (d: Buffer) => (this.output += d.toString('utf8')))
    this.child.stderr!.on('data', (d: Buffer) => (this.output += d.toString('utf8')))
    this.exited = new Promise((resolve) => this.child.on('close', (code) => resolve(code ?? -1)))
  }

  send(text: string): void {
    this.child.stdin!.write(text)
  }

  async expectOutput(re: RegExp, timeoutMs = 15_000): Promise<void> {
    const ok = await waitFor(() => re.test(this.output), timeoutMs)
    expect(ok, `waiting for ${re} in ${JSON.stringify(this.output)}`).toBe(true)
  }

  async exitCode(timeoutMs = 15_000): Promise<number | 'timeout'> {
    return Promise.race([this.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs))])
  }

  kill(): void {
    this.child.kill('SIGKILL')
  }
}

describe('attach', () => {
  it('relays the output of a running container; the client leaving does not stop it', async () => {
    const id = await runD(['--name', 'talker', busybox, 'sh', '-c', 'i=0; while true; do echo line $i; i=$((i+1)); sleep 0.2; done'])
    const client = ctrSpawn(['attach', '--no-stdin', 'talker'], {env: env()})
    let out = ''
    client.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    expect(await waitFor(() => out.split('\n').filter((l) => l.startsWith('line ')).length >= 3)).toBe(true)
    client.kill('SIGKILL')
    await new Promise((r) => client.on('close', r))
    expect((await inspect('talker')).State.Running).toBe(true)
    expect((await ctr(['rm', '-f', id], {env: env()})).exitCode).toBe(0)
  })

  it('sends input to a -i container; closing stdin ends it and attach exits with its code', async () => {
    await runD(['-i', '--name', 'echoer', busybox, 'sh', '-c', 'while read l; do echo got:$l; done; exit 4'])
    const r = await ctr(['attach', 'echoer'], {env: env(), input: 'hello\nworld\n'})
    expect(r.stdout).toBe('got:hello\ngot:world\n')
    expect(r.exitCode).toBe(4)
    expect((await inspect('echoer')).State).toMatchObject({Status: 'exited', ExitCode: 4})
    await ctr(['rm', 'echoer'], {env: env()})
  })

  it('detaches from a -it container with ctrl-p ctrl-q under a terminal; the container keeps running', async () => {
    const id = await runD(['-it', '--name', 'ttybox', busybox, 'sh'])
    const s = new PtySession(['attach', 'ttybox'])
    await new Promise((r) => setTimeout(r, 500))
    s.send('echo hi-$((40+2))\r')
    await s.expectOutput(/hi-42/)
    s.send('\x10\x11')
    expect(await s.exitCode()).toBe(0)
    const st = await inspect('ttybox')
    expect(st.State.Running).toBe(true)
    // attach again: the same shell is still there
    const again = new PtySession(['attach', 'ttybox'])
    await new Promise((r) => setTimeout(r, 500))
    again.send('echo still-$((1+1))\r')
    await again.expectOutput(/still-2/)
    again.send('exit 6\r')
    expect(await again.exitCode()).toBe(6)
    await ctr(['rm', id], {env: env()})
  })

  it('run -it detaches with ctrl-p ctrl-q and the container keeps running', async () => {
    const s = new PtySession(['run', '-it', '--name', 'runit', busybox, 'sh', '-c', 'echo ready; while true; do sleep 0.2; done'])
    await s.expectOutput(/ready/)
    s.send('\x10\x11')
    expect(await s.exitCode()).toBe(0)
    expect((await inspect('runit')).State.Running).toBe(true)
    expect((await ctr(['rm', '-f', 'runit'], {env: env()})).exitCode).toBe(0)
  })

  it('Ctrl-C typed into run -it reaches the container', async () => {
    const s = new PtySession(['run', '--rm', '-it', busybox, 'sh', '-c', 'trap "echo got INT; exit 9" INT; echo ready; sleep 5 & wait'])
    await s.expectOutput(/ready/)
    const t0 = Date.now()
    s.send('\x03')
    await s.expectOutput(/got INT/, 4000)
    expect(await s.exitCode()).toBe(9)
    expect(Date.now() - t0).toBeLessThan(4500)
  })
})

describe('kill', () => {
  it('delivers -s HUP and -s USR1 to the process (through --init)', async () => {
    const script = 'trap "echo got HUP" HUP; trap "echo got USR1" USR1; echo ready; while true; do sleep 0.1; done'
    const id = await runD(['--init', '--name', 'sigs', busybox, 'sh', '-c', script])
    expect(await waitFor(async () => (await ctr(['logs', 'sigs'], {env: env()})).stdout.includes('ready'))).toBe(true)
    const hup = await ctr(['kill', '-s', 'HUP', 'sigs'], {env: env()})
    expect(hup.exitCode).toBe(0)
    expect(hup.stdout.trim()).toBe('sigs')
    expect(await waitFor(async () => (await ctr(['logs', 'sigs'], {env: env()})).stdout.includes('got HUP'))).toBe(true)
    expect((await ctr(['kill', '-s', 'USR1', id], {env: env()})).exitCode).toBe(0)
    expect(await waitFor(async () => (await ctr(['logs', 'sigs'], {env: env()})).stdout.includes('got USR1'))).toBe(true)
    expect((await inspect('sigs')).State.Running).toBe(true)
    // the default signal is SIGKILL
    expect((await ctr(['kill', 'sigs'], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['wait', 'sigs'], {env: env()})).stdout.trim()).toBe('137')
    await ctr(['rm', 'sigs'], {env: env()})
  })

  it('refuses a container that is not running with one clear line', async () => {
    await ctr(['create', '--name', 'idle', busybox, 'true'], {env: env()})
    const r = await ctr(['kill', 'idle'], {env: env()})
    expect([1, 125]).toContain(r.exitCode)
    expect(r.stderr.trim().split('\n')).toEqual(['ctr-ts: container idle is not running'])
    const missing = await ctr(['kill', 'no-such-box'], {env: env()})
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr.trim()).toBe('ctr-ts: no such container: no-such-box')
    await ctr(['rm', 'idle'], {env: env()})
  })
})

describe('exec', () => {
  let id: string
  beforeAll(async () => {
    id = await runD(['--name', 'target', busybox, 'sleep', '1000'])
  })
  afterAll(async () => {
    await ctr(['rm', '-f', 'target'], {env: env()})
  })

  it('-it gets a terminal of its own (runc relays the pty)', async () => {
    const s = new PtySession(['exec', '-it', 'target', 'sh', '-c', 'tty; stty size; read x; echo read:$x; exit 3'])
    await s.expectOutput(/\/dev\/pts\/\d+/)
    s.send('typed\r')
    await s.expectOutput(/read:typed/)
    expect(s.output).toMatch(/30 100/)
    expect(await s.exitCode()).toBe(3)
  })

  it('-u, -w and -e', async () => {
    const r = await ctr(['exec', '-u', 'app', '-w', '/tmp', '-e', 'A=1', '-e', 'B=two words', 'target', 'sh', '-c', 'id -un; pwd; echo "$A/$B"'], {env: env()})
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('app\n/tmp\n1/two words\n')
    expect(r.exitCode).toBe(0)
    // without -u: the container's user (root), and its working directory
    expect((await ctr(['exec', 'target', 'sh', '-c', 'id -u; pwd'], {env: env()})).stdout).toBe('0\n/\n')
  })

  it('-i passes stdin to the process', async () => {
    const r = await ctr(['exec', '-i', 'target', 'tr', 'a-z', 'A-Z'], {env: env(), input: 'quiet\n'})
    expect(r.stdout).toBe('QUIET\n')
  })

  it('-d starts the process in the background and returns at once', async () => {
    const t0 = Date.now()
    const r = await ctr(['exec', '-d', 'target', 'sh', '-c', 'echo detached > /tmp/mark; exec sleep 300'], {env: env()})
    expect(r.exitCode).toBe(0)
    expect(r.stdout + r.stderr).toBe('')
    expect(Date.now() - t0).toBeLessThan(10_000)
    expect(await waitFor(async () => (await ctr(['exec', 'target', 'cat', '/tmp/mark'], {env: env()})).stdout === 'detached\n')).toBe(true)
    const ps = await ctr(['exec', 'target', 'ps', '-o', 'args'], {env: env()})
    expect(ps.stdout).toMatch(/sleep 300/)
    // a detached command that cannot start is still reported
    const bad = await ctr(['exec', '-d', 'target', 'no-such-cmd'], {env: env()})
    expect(bad.exitCode).toBe(127)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('into a stopped container: one clear line', async () => {
    await ctr(['create', '--name', 'stopped', busybox, 'true'], {env: env()})
    const r = await ctr(['exec', 'stopped', 'true'], {env: env()})
    expect(r.exitCode).toBe(125)
    expect(r.stderr.trim().split('\n')).toEqual(['ctr-ts: container stopped is not running'])
    await ctr(['rm', 'stopped'], {env: env()})
    expect(id).toMatch(/^[0-9a-f]{64}$/)
  })
})

describe('start', () => {
  it('-ai attaches stdin of a create -i container and exits with its code', async () => {
    await ctr(['create', '-i', '--name', 'upper', busybox, 'sh', '-c', 'tr a-z A-Z; exit 2'], {env: env()})
    const r = await ctr(['start', '-ai', 'upper'], {env: env(), input: 'abc\ndef\n'})
    expect(r.stdout).toBe('ABC\nDEF\n')
    expect(r.exitCode).toBe(2)
    await ctr(['rm', 'upper'], {env: env()})
  })

  it('of a running container is a no-op', async () => {
    const id = await runD(['--name', 'already', busybox, 'sleep', '1000'])
    const before = await inspect('already')
    const r = await ctr(['start', 'already'], {env: env()})
    expect(r.exitCode).toBe(0)
    expect(r.stdout.trim()).toBe('already')
    const after = await inspect('already')
    expect(after.State.Pid).toBe(before.State.Pid)
    expect(after.State.ShimPid).toBe(before.State.ShimPid)
    await ctr(['rm', '-f', id], {env: env()})
  })
})

describe('resilience', () => {
  it('a SIGKILLed foreground CLI leaves the container running; rm -f cleans everything', async () => {
    const cli = ctrSpawn(['run', '--name', 'orphan', busybox, 'sh', '-c', 'echo started; sleep 1000'], {env: env()})
    let out = ''
    cli.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    expect(await waitFor(() => out.includes('started'), 20_000)).toBe(true)
    cli.kill('SIGKILL')
    await new Promise((r) => cli.on('close', r))
    const st = await inspect('orphan')
    expect(st.State.Running).toBe(true)
    expect((await ctr(['ps', '-q', '--no-trunc'], {env: env()})).stdout.trim().split('\n')).toContain(st.Id)
    expect((await ctr(['exec', 'orphan', 'echo', 'alive'], {env: env()})).stdout).toBe('alive\n')
    const pids = [st.State.Pid, st.State.ShimPid]
    const helpers = portProxyOf(st)
    expect(helpers.length).toBeGreaterThan(0) // the port proxy
    expect((await ctr(['rm', '-f', 'orphan'], {env: env()})).exitCode).toBe(0)
    expectGone(st.Id, pids)
    expect(portProxyOf(st)).toEqual([])
  })

  it('a --rm container whose CLI was SIGKILLed is still removed when it exits', async () => {
    const cli = ctrSpawn(['run', '--rm', '--name', 'gone-later', busybox, 'sh', '-c', 'echo started; sleep 6'], {env: env()})
    let out = ''
    cli.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    expect(await waitFor(() => out.includes('started'), 20_000)).toBe(true)
    const st = await inspect('gone-later')
    cli.kill('SIGKILL')
    expect(await waitFor(async () => !(await psAll()).includes(st.Id), 15_000)).toBe(true)
    expect(await waitFor(() => !alive(st.State.ShimPid))).toBe(true)
    expectGone(st.Id, [st.State.Pid])
    // the name is free again
    expect((await ctr(['run', '--rm', '--name', 'gone-later', busybox, 'true'], {env: env()})).exitCode).toBe(0)
  })

  it('a SIGKILLed shim: ps -a shows the container exited, rm -f kills and removes everything it left', async () => {
    const id = await runD(['--name', 'noshim', busybox, 'sleep', '1000'])
    expect((await ctr(['exec', '-d', 'noshim', 'sleep', '999'], {env: env()})).exitCode).toBe(0)
    const st = await inspect('noshim')
    const fuse = processesMentioning(join(t.root, 'containers', id, 'merged')).map((l) => Number(l.split(' ')[0]))
    const helpers = portProxyOf(st).map((l) => Number(l.split(' ')[0]))
    const slirp = processesMentioning(join(t.runRoot, 'c', id.slice(0, 12), 'slirp.sock')).map((l) => Number(l.split(' ')[0]))
    expect(fuse.length).toBeGreaterThan(0)
    expect(helpers.length).toBeGreaterThan(0)
    expect(slirp.length).toBeGreaterThan(0)
    const execed = readdirSync('/proc')
      .filter((p) => /^\d+$/.test(p))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8') === 'sleep\x00999\x00'
        } catch {
          return false
        }
      })
    expect(execed.length).toBeGreaterThan(0)

    process.kill(st.State.ShimPid, 'SIGKILL')
    expect(await waitFor(() => !alive(st.State.ShimPid))).toBe(true)
    const ps = await ctr(['ps', '-a', '--no-trunc', '--format', '{{.ID}} {{.State}}'], {env: env()})
    expect(ps.stdout.split('\n')).toContain(`${id} exited`)
    expect((await ctr(['ps', '-q', '--no-trunc'], {env: env()})).stdout).not.toContain(id)

    const rm = await ctr(['rm', '-f', 'noshim'], {env: env()})
    expect(rm.stderr).toBe('')
    expect(rm.exitCode).toBe(0)
    expectGone(id, [st.State.Pid, ...fuse, ...helpers, ...slirp, ...execed])
  })
})

describe('refused before anything starts', () => {
  it('--memory on this cgroup v1/hybrid machine: one line about cgroup v2 delegation, exit 125, nothing left', async () => {
    const v2 = existsSync('/sys/fs/cgroup/cgroup.controllers')
    const r = await ctr(['run', '--rm', '--name', 'limited', '--memory', '64m', busybox, 'true'], {env: env()})
    if (v2) {
      // A cgroup v2 machine may delegate: then it runs, else the same refusal.
      expect([0, 125]).toContain(r.exitCode)
    } else {
      expect(r.exitCode).toBe(125)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^ctr-ts: resource limits need cgroup v2 with delegation/)
    }
    expect(await psAll()).toEqual([])
    expect(existsSync(join(t.root, 'names', 'limited'))).toBe(false)
  })

  it('--runtime crun: works, or one clear line, exit 125, nothing left behind', async () => {
    const r = await ctr(['run', '--rm', '--name', 'crunny', '--network', 'none', '--runtime', 'crun', busybox, 'echo', 'crun-ok'], {env: env()})
    if (r.exitCode === 0) {
      expect(r.stdout).toBe('crun-ok\n')
    } else {
      expect(r.exitCode).toBe(125)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(/^ctr-ts: \S/)
    }
    expect(await psAll()).toEqual([])
    expect(existsSync(join(t.root, 'names', 'crunny'))).toBe(false)
    expect(readdirSync(join(t.runRoot, 'runc')).filter((d) => !existsSync(join(t.root, 'containers', d)))).toEqual([])
    expect(readdirSync(join(t.root, 'containers'))).toEqual((await psAll()))
  })
})

describe('names, ps and inspect', () => {
  it('a taken name is a conflict; after rm the name can be used again', async () => {
    const id = await runD(['--name', 'dup', busybox, 'sleep', '1000'])
    const again = await ctr(['run', '--name', 'dup', busybox, 'true'], {env: env()})
    expect(again.exitCode).toBe(125)
    expect(again.stderr.trim().split('\n')).toEqual([`ctr-ts: the container name "dup" is already in use by ${id.slice(0, 12)}`])
    expect(await psAll()).toEqual([id])
    expect((await ctr(['rm', '-f', 'dup'], {env: env()})).exitCode).toBe(0)
    const reuse = await ctr(['run', '--rm', '--name', 'dup', busybox, 'echo', 'reused'], {env: env()})
    expect(reuse.stdout).toBe('reused\n')
    expect(reuse.exitCode).toBe(0)
  })

  it('ps -a -q, ps --format json and inspect report pid, exit code, env and host config', async () => {
    const running = await runD(['--name', 'insp', '--init', '-e', 'FOO=bar', '--network', 'none', busybox, 'sleep', '1000'])
    const done = (await ctr(['create', '--name', 'insp-done', busybox, 'sh', '-c', 'exit 5'], {env: env()})).stdout.trim()
    expect((await ctr(['start', '-a', 'insp-done'], {env: env()})).exitCode).toBe(5)

    const q = (await ctr(['ps', '-a', '-q'], {env: env()})).stdout.trim().split('\n')
    expect(q.sort()).toEqual([running.slice(0, 12), done.slice(0, 12)].sort())
    expect((await ctr(['ps', '-q'], {env: env()})).stdout.trim()).toBe(running.slice(0, 12))

    // docker's ps JSON: one object per line, the command quoted (without --init's /dev/init)
    const json = (await ctr(['ps', '-a', '--no-trunc', '--format', 'json'], {env: env()})).stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as {ID: string; Names: string; State: string; Status: string; Command: string})
    const r = json.find((c) => c.ID === running)!
    const d = json.find((c) => c.ID === done)!
    expect(r).toMatchObject({Names: 'insp', State: 'running', Command: '"sleep 1000"'})
    expect(d).toMatchObject({Names: 'insp-done', State: 'exited', Command: '"sh -c exit 5"'})
    expect(d.Status).toMatch(/^Exited \(5\) /)

    const i = await inspect('insp')
    expect(i.State.Pid).toBeGreaterThan(0)
    expect(alive(i.State.Pid)).toBe(true)
    expect(i.State).toMatchObject({Status: 'running', Running: true, ExitCode: 0})
    expect(i.Config.Env).toContain('FOO=bar')
    expect(i.Config.Env.some((e) => e.startsWith('PATH='))).toBe(true)
    expect(i.HostConfig).toMatchObject({AutoRemove: false, Init: true, NetworkMode: 'none', Runtime: 'runc'})
    const j = await inspect(done.slice(0, 8))
    expect(j.State).toMatchObject({Status: 'exited', Running: false, Pid: 0, ExitCode: 5})

    await ctr(['stop', '-t', '5', 'insp'], {env: env()})
    expect((await inspect('insp')).State).toMatchObject({Status: 'exited', Running: false, Pid: 0, ExitCode: 143})
    expect((await ctr(['rm', 'insp', 'insp-done'], {env: env()})).exitCode).toBe(0)
    expect(await psAll()).toEqual([])
  })
})
