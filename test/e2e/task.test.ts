/**
 * The runtime Task seen from the CLI: the exit code of a container killed by a signal is 128+N
 * as docker reports it (not always 137), and `--rm` cleanup in every path that used to be
 * separate (a foreground run, a detached run, a start that fails, start -a, kill).
 */
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 15_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

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

/** Nothing of the container is left: no process, no directory, no runtime state, no name. */
function expectGone(id: string, name?: string): void {
  expect(processesMentioning(id)).toEqual([])
  expect(existsSync(join(t.root, 'containers', id))).toBe(false)
  expect(existsSync(join(t.runRoot, 'c', id.slice(0, 12)))).toBe(false)
  expect(existsSync(join(t.runRoot, 'runc', id))).toBe(false)
  if (name) expect(existsSync(join(t.root, 'names', name))).toBe(false)
}

async function allIds(): Promise<string[]> {
  return (await ctr(['ps', '-a', '-q', '--no-trunc'], {env: env()})).stdout.split('\n').filter(Boolean)
}

async function runD(args: string[]): Promise<string> {
  const r = await ctr(['run', '-d', ...args], {env: env()})
  expect(r.stderr).toBe('')
  expect(r.exitCode).toBe(0)
  return r.stdout.trim()
}

async function stateOf(name: string): Promise<{Status: string; ExitCode: number}> {
  const r = await ctr(['inspect', name], {env: env()})
  expect(r.exitCode).toBe(0)
  return (JSON.parse(r.stdout) as {State: {Status: string; ExitCode: number}}[])[0]!.State
}

describe('exit code of a container killed by a signal', () => {
  it('kill -s TERM gives 143, -s INT 130, -s HUP 129, the default SIGKILL 137', {timeout: 120_000}, async () => {
    const cases: [string, string, number][] = [
      ['TERM', 'sig-term', 143],
      ['INT', 'sig-int', 130],
      ['HUP', 'sig-hup', 129],
      ['SIGKILL', 'sig-kill', 137],
    ]
    for (const [signal, name] of cases) await runD(['--init', '--name', name, busybox, 'sleep', '1000'])
    for (const [signal, name, code] of cases) {
      const k = await ctr(['kill', '-s', signal, name], {env: env()})
      expect(k.exitCode).toBe(0)
      expect(k.stdout.trim()).toBe(name)
      const waited = await ctr(['wait', name], {env: env()})
      expect(waited.stdout.trim(), `kill -s ${signal}`).toBe(String(code))
      expect(await stateOf(name)).toMatchObject({Status: 'exited', ExitCode: code})
      const ps = await ctr(['ps', '-a', '--format', 'json'], {env: env()})
      const row = ps.stdout
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as {Names: string; Status: string})
        .find((r) => r.Names === name)!
      expect(row.Status).toMatch(new RegExp(`^Exited \\(${code}\\) `))
      expect((await ctr(['rm', name], {env: env()})).exitCode).toBe(0)
    }
  })

  it('a foreground run and exec report 128+N for a process killed by signal N', async () => {
    const run = await ctr(['run', '--rm', '--init', busybox, 'sh', '-c', 'kill -TERM $$'], {env: env()})
    expect(run.exitCode).toBe(143)
    expect(run.stderr).toBe('')
    await runD(['--name', 'exec-sig', busybox, 'sleep', '1000'])
    const ex = await ctr(['exec', 'exec-sig', 'sh', '-c', 'kill -USR1 $$'], {env: env()})
    expect(ex.exitCode).toBe(138)
    expect(ex.stderr).toBe('')
    expect((await ctr(['rm', '-f', 'exec-sig'], {env: env()})).exitCode).toBe(0)
  })
})

describe('--rm cleanup', () => {
  it('a foreground run --rm: gone when the CLI returns, with the exit code', async () => {
    const before = await allIds()
    const r = await ctr(['run', '--rm', '--name', 'rm-fg', busybox, 'sh', '-c', 'echo hi; exit 7'], {env: env()})
    expect(r.exitCode).toBe(7)
    expect(r.stdout).toBe('hi\n')
    expect(await allIds()).toEqual(before)
    expect(existsSync(join(t.root, 'names', 'rm-fg'))).toBe(false)
  })

  it('a run --rm whose command cannot start: 127 or 126, one line, nothing left (foreground and -d)', async () => {
    const before = await allIds()
    for (const detach of [[], ['-d']]) {
      const nf = await ctr(['run', ...detach, '--rm', '--name', 'rm-nf', busybox, 'no-such-command'], {env: env()})
      expect(nf.exitCode).toBe(127)
      expect(nf.stderr.trim().split('\n')).toHaveLength(1)
      expect(nf.stderr).toMatch(/^ctr-ts: .*no-such-command/)
      expect(nf.stdout).toBe('')
      const ni = await ctr(['run', ...detach, '--rm', '--name', 'rm-ni', busybox, '/etc'], {env: env()})
      expect(ni.exitCode).toBe(126)
      expect(ni.stderr.trim().split('\n')).toHaveLength(1)
      expect(await allIds()).toEqual(before)
      expect(existsSync(join(t.root, 'names', 'rm-nf'))).toBe(false)
      expect(existsSync(join(t.root, 'names', 'rm-ni'))).toBe(false)
    }
    // without --rm the container stays, created, like docker
    const kept = await ctr(['run', '--name', 'kept-nf', busybox, 'no-such-command'], {env: env()})
    expect(kept.exitCode).toBe(127)
    expect((await stateOf('kept-nf')).Status).toBe('created')
    expect((await ctr(['rm', 'kept-nf'], {env: env()})).exitCode).toBe(0)
  })

  it('create --rm then start -a: removed when it exits; killed by a signal: removed too', async () => {
    const id = (await ctr(['create', '--rm', '--name', 'rm-start', busybox, 'sh', '-c', 'echo started; exit 4'], {env: env()})).stdout.trim()
    const s = await ctr(['start', '-a', 'rm-start'], {env: env()})
    expect(s.exitCode).toBe(4)
    expect(s.stdout).toBe('started\n')
    expectGone(id, 'rm-start')

    const killed = await runD(['--rm', '--init', '--name', 'rm-killed', busybox, 'sleep', '1000'])
    expect((await ctr(['kill', '-s', 'TERM', 'rm-killed'], {env: env()})).exitCode).toBe(0)
    expect(await waitFor(async () => !(await allIds()).includes(killed))).toBe(true)
    expect(await waitFor(() => processesMentioning(killed).length === 0)).toBe(true)
    expectGone(killed, 'rm-killed')
  })
})
