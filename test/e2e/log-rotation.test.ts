/**
 * Log rotation by the shim, end to end: --log-opt max-size/max-file and the logs.* defaults,
 * rotated files ctr.log.1 ... never bigger than the limit and never more than max-file, `logs`
 * (plain, --tail, -f) reading across them, inspect's HostConfig.LogConfig, and bad options
 * refused before anything is created.
 */
import {type ChildProcess} from 'node:child_process'
import {readdirSync, statSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, defaultTestConfig, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

interface Inspected {
  Id: string
  LogPath: string
  HostConfig: {LogConfig: {Type: string; Config: Record<string, string>}}
}

async function inspect(name: string): Promise<Inspected> {
  const r = await ctr(['inspect', name], {env: env()})
  expect(r.exitCode).toBe(0)
  return (JSON.parse(r.stdout) as Inspected[])[0]!
}

/** The container's log files (ctr.log and its rotated ones) with their sizes. */
function logFiles(logPath: string): Map<string, number> {
  const files = new Map<string, number>()
  for (const name of readdirSync(dirname(logPath))) {
    if (name === 'ctr.log' || /^ctr\.log\.\d+$/.test(name)) files.set(name, statSync(join(dirname(logPath), name)).size)
  }
  return files
}

/** A shell loop printing `line 0` ... `line N-1` (with a pause every `every` lines when given). */
function printLines(n: number, every?: number, pause = '0.1'): string {
  const rest = every ? `; [ $((i % ${every})) = 0 ] && sleep ${pause}` : ''
  return `i=0; while [ $i -lt ${n} ]; do echo "line $i"; i=$((i+1))${rest}; done; true`
}

/** The numbers of `line N` output lines; checks they are consecutive. */
function lineNumbers(text: string): number[] {
  const lines = text.split('\n').filter(Boolean)
  const numbers = lines.map((l) => Number(/^line (\d+)$/.exec(l)?.[1] ?? NaN))
  expect(numbers.every(Number.isInteger), `only "line N" lines: ${lines.slice(0, 3).join(' | ')}`).toBe(true)
  for (let i = 1; i < numbers.length; i++) expect(numbers[i], `line after ${numbers[i - 1]}`).toBe(numbers[i - 1]! + 1)
  return numbers
}

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 20_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

describe('log rotation', () => {
  it('rotates by size into ctr.log.1, ctr.log.2, keeps max-file files, and logs reads across them', {timeout: 120_000}, async () => {
    const max = 4096
    const run = await ctr(['run', '--name', 'rot', '--log-opt', 'max-size=4k', '--log-opt', 'max-file=3', busybox, 'sh', '-c', printLines(2000)], {
      env: env(),
      timeoutMs: 60_000,
    })
    expect(run.exitCode).toBe(0)
    expect(lineNumbers(run.stdout)).toHaveLength(2000)

    const info = await inspect('rot')
    expect(info.HostConfig.LogConfig).toEqual({Type: 'k8s-file', Config: {'max-size': '4k', 'max-file': '3'}})
    const files = logFiles(info.LogPath)
    expect([...files.keys()].sort()).toEqual(['ctr.log', 'ctr.log.1', 'ctr.log.2'])
    // Records are about 50 bytes: a file is full to within one record, and never over the limit.
    for (const [name, size] of files) expect(size, name).toBeLessThanOrEqual(max)
    for (const name of ['ctr.log.1', 'ctr.log.2']) expect(files.get(name)!, name).toBeGreaterThan(max - 100)

    // logs: the rotated files first, oldest first, so the kept tail is continuous up to the end.
    const logs = await ctr(['logs', 'rot'], {env: env()})
    expect(logs.exitCode).toBe(0)
    const kept = lineNumbers(logs.stdout)
    expect(kept.at(-1)).toBe(1999)
    expect(kept[0]).toBeGreaterThan(0) // the oldest output is gone
    expect(kept.length).toBeGreaterThan((2 * max) / 60)

    const tail = await ctr(['logs', '--tail', '3', 'rot'], {env: env()})
    expect(tail.stdout).toBe('line 1997\nline 1998\nline 1999\n')

    // Started again, the shim appends to the current file and keeps rotating within the limits.
    const again = await ctr(['start', '-a', 'rot'], {env: env(), timeoutMs: 60_000})
    expect(again.exitCode).toBe(0)
    const after = logFiles(info.LogPath)
    expect(after.size).toBe(3)
    for (const [name, size] of after) expect(size, name).toBeLessThanOrEqual(max)
    expect((await ctr(['logs', '--tail', '1', 'rot'], {env: env()})).stdout).toBe('line 1999\n')
    expect((await ctr(['rm', 'rot'], {env: env()})).exitCode).toBe(0)
  })

  it('max-file=1 (docker default with max-size) truncates the log in place', {timeout: 60_000}, async () => {
    const run = await ctr(['run', '--name', 'trunc', '--log-opt', 'max-size=2k', busybox, 'sh', '-c', printLines(500)], {env: env(), timeoutMs: 60_000})
    expect(run.exitCode).toBe(0)
    const info = await inspect('trunc')
    expect(info.HostConfig.LogConfig.Config).toEqual({'max-size': '2k', 'max-file': '1'})
    const files = logFiles(info.LogPath)
    expect([...files.keys()]).toEqual(['ctr.log'])
    expect(files.get('ctr.log')!).toBeLessThanOrEqual(2048)
    expect(lineNumbers((await ctr(['logs', 'trunc'], {env: env()})).stdout).at(-1)).toBe(499)
    expect((await ctr(['rm', 'trunc'], {env: env()})).exitCode).toBe(0)
  })

  it('logs -f follows the output across rotations without losing or repeating a line', {timeout: 180_000}, async () => {
    await ctr(['rm', '-f', 'follow'], {env: env()})
    const started = await ctr(
      [
        'run', '-d', '--name', 'follow', '--log-opt', 'max-size=2k', '--log-opt', 'max-file=5', busybox, 'sh', '-c',
        // printing starts once the follower is known to be reading (it has shown "ready")
        `echo ready; while [ ! -e /tmp/go ]; do sleep 0.1; done; ${printLines(600, 20, '0.2')}`,
      ],
      {env: env()},
    )
    expect(started.exitCode).toBe(0)
    const follower: ChildProcess = ctrSpawn(['logs', '-f', 'follow'], {env: env()})
    const closed = new Promise<number | null>((resolve) => follower.on('close', resolve))
    let followed = ''
    follower.stdout!.on('data', (d: Buffer) => (followed += d.toString()))
    try {
      expect(await waitFor(() => followed.startsWith('ready\n'), 60_000)).toBe(true)
      expect((await ctr(['exec', 'follow', 'touch', '/tmp/go'], {env: env(), timeoutMs: 30_000})).exitCode).toBe(0)
      const code = await Promise.race([closed, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 90_000).unref())])
      expect(code, 'logs -f ends when the container exits').toBe(0)
    } finally {
      follower.kill()
    }
    const numbers = lineNumbers(followed.slice('ready\n'.length))
    expect(numbers[0]).toBe(0)
    expect(numbers.at(-1)).toBe(599)

    const info = await inspect('follow')
    const files = logFiles(info.LogPath)
    expect(files.size).toBeLessThanOrEqual(5)
    expect(files.has('ctr.log.4')).toBe(true)
    for (const [name, size] of files) expect(size, name).toBeLessThanOrEqual(2048)
    expect((await ctr(['rm', 'follow'], {env: env()})).exitCode).toBe(0)
  })

  it('takes its defaults from logs.maxSize / logs.maxFiles; --log-opt overrides them', {timeout: 60_000}, async () => {
    t.writeConfig({...defaultTestConfig(), logs: {maxSize: '1k', maxFiles: 2}})
    try {
      const run = await ctr(['run', '--name', 'fromcfg', busybox, 'sh', '-c', printLines(300)], {env: env(), timeoutMs: 60_000})
      expect(run.exitCode).toBe(0)
      const info = await inspect('fromcfg')
      expect(info.HostConfig.LogConfig.Config).toEqual({'max-size': '1k', 'max-file': '2'})
      const files = logFiles(info.LogPath)
      expect([...files.keys()].sort()).toEqual(['ctr.log', 'ctr.log.1'])
      for (const [name, size] of files) expect(size, name).toBeLessThanOrEqual(1024)

      const created = await ctr(['create', '--name', 'override', '--log-opt', 'max-file=4', busybox, 'true'], {env: env()})
      expect(created.exitCode).toBe(0)
      expect((await inspect('override')).HostConfig.LogConfig.Config).toEqual({'max-size': '1k', 'max-file': '4'})
      expect((await ctr(['rm', 'fromcfg', 'override'], {env: env()})).exitCode).toBe(0)
    } finally {
      t.writeConfig(defaultTestConfig())
    }
  })

  it('without options there is no limit and inspect shows an empty LogConfig', async () => {
    const id = (await ctr(['create', busybox, 'true'], {env: env()})).stdout.trim()
    expect((await inspect(id)).HostConfig.LogConfig).toEqual({Type: 'k8s-file', Config: {}})
    expect((await ctr(['rm', id], {env: env()})).exitCode).toBe(0)
  })

  it.each([
    [['--log-opt', 'max-size=ten'], 'ctr-ts: invalid --log-opt max-size "ten": use a size with an optional unit k, m, g (e.g. 10m)\n'],
    [['--log-opt', 'max-size=10m', '--log-opt', 'max-file=0'], 'ctr-ts: invalid --log-opt max-file "0": use a whole number from 1 to 100\n'],
    [['--log-opt', 'max-file=3'], 'ctr-ts: --log-opt max-file needs a size limit: add --log-opt max-size=SIZE (or set logs.maxSize)\n'],
    [['--log-opt', 'compress=true'], "ctr-ts: unknown log opt 'compress' for k8s-file log driver (known: max-size, max-file)\n"],
    [['--log-opt', 'max-size'], 'ctr-ts: invalid --log-opt "max-size": expected KEY=VALUE (max-size=10m, max-file=3)\n'],
  ])('refuses %j with one line, exit 125, nothing created', async (flags, message) => {
    const r = await ctr(['run', '--name', 'bad', ...flags, busybox, 'true'], {env: env()})
    expect(r.stderr).toBe(message)
    expect(r.exitCode).toBe(125)
    expect((await ctr(['inspect', 'bad'], {env: env()})).exitCode, 'no container "bad"').not.toBe(0)
  })
})

