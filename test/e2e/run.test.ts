/**
 * The container lifecycle end to end, through the real binary, as the unprivileged user:
 * real user namespaces, fuse-overlayfs, runc and the C shim.
 */
import {execFileSync} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, CLI, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {mountsMentioning, processesMentioning, waitFor} from '../harness/proc.js'

let t: TempRoot
let busybox: string
let multilayer: string
const env = () => t.env

beforeAll(async () => {
  t = tempRoot()
  busybox = testEnv().fixtures.busybox!.ref
  multilayer = testEnv().fixtures['multilayer-gzip']!.ref
  const pulled = await ctr(['pull', '-q', busybox], {env: env()})
  expect(pulled.stderr).toBe('')
  expect(pulled.exitCode).toBe(0)
  expect((await ctr(['pull', '-q', multilayer], {env: env()})).exitCode).toBe(0)
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
})

describe('run', () => {
  it('runs as uid 0 of the user namespace and propagates the exit code', async () => {
    const r = await ctr(['run', '--rm', busybox, 'sh', '-c', 'id -u; id -g; exit 42'], {env: env()})
    expect(r.stdout).toBe('0\n0\n')
    expect(r.exitCode).toBe(42)
  })

  it('keeps image owners, applies whiteouts and opaque directories', async () => {
    const r = await ctr(
      ['run', '--rm', multilayer, 'sh', '-c', 'stat -c "%u:%g %a" /home/app/owned /data/owned2000 /data/suid; ls /data/dir; ls /data'],
      {env: env()},
    )
    expect(r.stderr).toBe('')
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toBe('1000:1000 640')
    expect(lines[1]).toMatch(/^2000:3000 /)
    expect(lines[2]).toBe('0:0 4755')
    expect(lines[3]).toBe('new')
    expect(r.stdout).not.toMatch(/\bgone\b/)
    expect(r.stdout).toMatch(/\bkeep\b/)
    expect(r.exitCode).toBe(0)
  })

  it('gives docker exit codes: 127 not found, 126 not executable, 125 for its own errors', async () => {
    const notFound = await ctr(['run', '--rm', busybox, 'no-such-command'], {env: env()})
    expect(notFound.exitCode).toBe(127)
    expect(notFound.stderr.trim().split('\n')).toHaveLength(1)
    const notExec = await ctr(['run', '--rm', busybox, '/etc/passwd'], {env: env()})
    expect(notExec.exitCode).toBe(126)
    const badImage = await ctr(['run', '--rm', 'NOT//valid'], {env: env()})
    expect(badImage.exitCode).toBe(125)
    expect(badImage.stderr).not.toMatch(/\n\s+at /)
    // --rm removed the failed containers too
    const ps = await ctr(['ps', '-a', '-q'], {env: env()})
    expect(ps.stdout.trim()).toBe('')
  })

  it('passes env, workdir, user, hostname and read-only flags', async () => {
    const r = await ctr(
      ['run', '--rm', '-e', 'FOO=bar', '-w', '/tmp/made', '-u', 'app', '--hostname', 'boxy', busybox, 'sh', '-c', 'echo $FOO; pwd; id -un; hostname'],
      {env: env()},
    )
    expect(r.stdout).toBe('bar\n/tmp/made\napp\nboxy\n')
    const ro = await ctr(['run', '--rm', '--read-only', busybox, 'touch', '/x'], {env: env()})
    expect(ro.exitCode).not.toBe(0)
    expect(ro.stderr).toMatch(/Read-only file system/)
  })

  it('bind-mounts host directories with -v', async () => {
    const r = await ctr(['run', '--rm', '-v', `${t.home}:/hosthome:ro`, busybox, 'sh', '-c', 'ls -d /hosthome && touch /hosthome/x'], {env: env()})
    expect(r.stdout).toBe('/hosthome\n')
    expect(r.exitCode).not.toBe(0)
  })
})

describe('detached containers', () => {
  it('outlive the CLI, stream logs with -f, stop honours the timeout, and leave nothing behind after rm', {timeout: 120_000}, async () => {
    const started = await ctr(
      ['run', '-d', '--name', 'ticker', busybox, 'sh', '-c', 'trap "" TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.2; done'],
      {env: env()},
    )
    expect(started.exitCode).toBe(0)
    const id = started.stdout.trim()
    expect(id).toMatch(/^[0-9a-f]{64}$/)

    // The CLI has exited; the container still runs and logs.
    expect(await waitFor(async () => (await ctr(['logs', 'ticker'], {env: env()})).stdout.includes('tick 3'))).toBe(true)
    const ps = await ctr(['ps', '--no-trunc', '--format', 'json'], {env: env()})
    const listed = ps.stdout
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as {ID: string; State: string})
    expect(listed.find((c) => c.ID === id)?.State).toBe('running')

    // logs -f follows new output
    const follower = ctrSpawn(['logs', '-f', '--tail', '1', 'ticker'], {env: env()})
    // Listen now: the follower may end (as it should) before `stop` below has returned.
    const followerClosed = new Promise<number | null>((resolve) => follower.on('close', resolve))
    let followed = ''
    follower.stdout!.on('data', (d: Buffer) => (followed += d.toString()))
    expect(await waitFor(() => followed.split('\n').filter(Boolean).length >= 3)).toBe(true)

    // exec works in the running container
    const exec = await ctr(['exec', 'ticker', 'sh', '-c', 'cat /etc/hostname; exit 7'], {env: env(), timeoutMs: 15_000})
    expect(exec.stdout.trim()).toBe(id.slice(0, 12))
    expect(exec.exitCode).toBe(7)

    // The container ignores SIGTERM: stop waits the timeout, then SIGKILLs.
    const t0 = Date.now()
    const stop = await ctr(['stop', '-t', '2', 'ticker'], {env: env(), timeoutMs: 15_000})
    const took = Date.now() - t0
    expect(stop.exitCode).toBe(0)
    expect(took).toBeGreaterThanOrEqual(2000)
    expect(took).toBeLessThan(9000)
    const code = await Promise.race([followerClosed, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000).unref())])
    expect(code, 'logs -f ends when the container stops').toBe(0)
    const inspect = JSON.parse((await ctr(['inspect', 'ticker'], {env: env()})).stdout) as Array<{State: {Status: string; ExitCode: number}}>
    expect(inspect[0]!.State).toMatchObject({Status: 'exited', ExitCode: 137})

    const rm = await ctr(['rm', 'ticker'], {env: env()})
    expect(rm.exitCode).toBe(0)
    expect(processesMentioning(id)).toEqual([])
    expect(mountsMentioning(id)).toEqual([])
    expect(existsSync(join(t.root, 'containers', id))).toBe(false)
    expect(existsSync(join(t.runRoot, 'c', id.slice(0, 12)))).toBe(false)
  })

  it('rm refuses a running container without -f and removes it with -f', async () => {
    const id = (await ctr(['run', '-d', busybox, 'sleep', '1000'], {env: env()})).stdout.trim()
    const refused = await ctr(['rm', id], {env: env()})
    expect(refused.exitCode).not.toBe(0)
    expect(refused.stderr).toMatch(/running/)
    expect((await ctr(['rm', '-f', id], {env: env()})).exitCode).toBe(0)
    expect(processesMentioning(id)).toEqual([])
    expect(mountsMentioning(id)).toEqual([])
  })

  it('create, start -a and wait', async () => {
    const id = (await ctr(['create', '--name', 'later', busybox, 'sh', '-c', 'echo created-then-started; exit 3'], {env: env()})).stdout.trim()
    expect((await ctr(['ps', '-a', '--format', 'json'], {env: env()})).stdout).toContain('"created"')
    const started = await ctr(['start', '-a', 'later'], {env: env()})
    expect(started.stdout).toBe('created-then-started\n')
    expect(started.exitCode).toBe(3)
    const waited = await ctr(['wait', id], {env: env()})
    expect(waited.stdout.trim()).toBe('3')
    // A stopped container starts again.
    expect((await ctr(['start', '-a', 'later'], {env: env()})).exitCode).toBe(3)
    expect((await ctr(['rm', 'later'], {env: env()})).exitCode).toBe(0)
  })

  it('-d --rm removes the container when it exits', async () => {
    const id = (await ctr(['run', '-d', '--rm', busybox, 'sh', '-c', 'sleep 0.5'], {env: env()})).stdout.trim()
    expect(await waitFor(() => !existsSync(join(t.root, 'containers', id)))).toBe(true)
    // the shim exits right after its exit command removed the directory: nothing stays
    await waitFor(() => processesMentioning(id).length === 0, 5_000)
    expect(processesMentioning(id)).toEqual([])
  })
})

describe('--init', () => {
  it('forwards signals to the child and exits with its code', async () => {
    const id = (await ctr(['run', '-d', '--init', busybox, 'sleep', '1000'], {env: env()})).stdout.trim()
    const t0 = Date.now()
    expect((await ctr(['stop', '-t', '20', id], {env: env()})).exitCode).toBe(0)
    expect(Date.now() - t0).toBeLessThan(5000)
    const waited = await ctr(['wait', id], {env: env()})
    expect(waited.stdout.trim()).toBe('143')
    await ctr(['rm', id], {env: env()})
  })

  it('reaps orphaned zombies', async () => {
    const script = 'for i in 1 2 3; do sh -c "sleep 0.1 &"; done; sleep 1; ps -o stat,comm | grep -c "^Z" || true; ps -o pid,comm | head -2'
    const r = await ctr(['run', '--rm', '--init', busybox, 'sh', '-c', script], {env: env()})
    expect(r.stdout.split('\n')[0]).toBe('0')
    expect(r.stdout).toMatch(/\s1 init\n/) // tini, bind-mounted at /dev/init
  })
})

describe('terminals', () => {
  it('-it gives a real terminal through a pseudo-terminal', async () => {
    // util-linux `script` gives the CLI a pty, as a user's terminal would.
    const inner = `${process.execPath} ${CLI} run --rm -it ${busybox} sh -c 'tty; stty size; read line; echo got:$line; exit 5'`
    const envs = Object.entries(env())
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')
    let out = ''
    let code = 0
    try {
      out = execFileSync('script', ['-qec', `stty rows 33 cols 101; env ${envs} ${inner}`, '/dev/null'], {
        input: 'hello\n',
        timeout: 30_000,
        encoding: 'utf8',
      })
    } catch (err) {
      const e = err as {status: number; stdout: string}
      code = e.status
      out = e.stdout
    }
    expect(out).toMatch(/\/dev\/pts\/\d+/)
    expect(out).toMatch(/33 101/)
    expect(out).toMatch(/got:hello/)
    expect(code).toBe(5)
  })

  it('-i passes stdin without a terminal', async () => {
    const r = await ctr(['run', '--rm', '-i', busybox, 'sh', '-c', 'tr a-z A-Z'], {env: env(), input: 'shout\n'})
    expect(r.stdout).toBe('SHOUT\n')
    expect(r.exitCode).toBe(0)
  })
})
