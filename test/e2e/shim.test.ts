/**
 * The container shim (shim/build/ctr-ts-shim) end to end, without the rest of the CLI: a busybox
 * rootfs mounted by the real fuse-overlayfs, started by the real runc, inside the user namespace
 * made by ctr-ts-userns, driven through spawnShim and AttachClient. Runs as the unprivileged
 * test user.
 */
import {spawn} from 'node:child_process'
import {connect} from 'node:net'
import {copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {pathToFileURL} from 'node:url'
import {execa} from 'execa'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CommandNotFoundError, CommandNotInvokableError} from '../../src/errors.js'
import {AttachClient} from '../../src/shim/attach.js'
import {shimPath} from '../../src/shim/paths.js'
import {classifyRuntimeError, shimErrorMessage} from '../../src/runtime/classify.js'
import {spawnShim as spawnShimReport, type SpawnShimOptions} from '../../src/shim/spawn.js'

/** The shim created the container, or its report is classified the way the runtime Task does it. */
async function spawnShim(opts: SpawnShimOptions): Promise<{shimPid: number; containerPid: number}> {
  const r = await spawnShimReport(opts)
  if ('error' in r) throw classifyRuntimeError(shimErrorMessage(r.error))
  return r
}
import {packageRoot} from '../../src/userns/helpers.js'
import {currentMapping} from '../../src/userns/idmap.js'
import {userNsArgv} from '../../src/userns/exec.js'

const RUNC = '/usr/bin/runc'
const FUSE_OVERLAYFS = '/usr/bin/fuse-overlayfs'
let dir: string
let lower: string
let specTemplate: Record<string, any>
let seq = 0

beforeAll(async () => {
  expect(process.getuid?.(), 'the shim e2e test runs as an unprivileged user (npm test does that)').not.toBe(0)
  dir = mkdtempSync(join(tmpdir(), 'ctr-ts-shim-'))
  lower = join(dir, 'lower')
  for (const d of ['bin', 'sbin', 'proc', 'sys', 'dev', 'tmp', 'etc']) mkdirSync(join(lower, d), {recursive: true})
  copyFileSync('/bin/busybox', join(lower, 'bin', 'busybox'))
  for (const c of ['sh', 'echo', 'cat', 'sleep', 'tty', 'stty', 'true', 'head', 'tr']) symlinkSync('busybox', join(lower, 'bin', c))
  copyFileSync('/usr/bin/tini-static', join(lower, 'sbin', 'tini'))
  const specDir = join(dir, 'spec')
  mkdirSync(specDir)
  await execa(RUNC, ['spec'], {cwd: specDir})
  specTemplate = JSON.parse(readFileSync(join(specDir, 'config.json'), 'utf8'))
})

afterAll(() => {
  if (dir) rmSync(dir, {recursive: true, force: true})
})

interface Box {
  id: string
  root: string
  merged: string
  stateDir: string
  log: string
  exitFile: string
  diag: string
  opts: SpawnShimOptions
}

/** A container directory with a bundle whose config.json is `runc spec` with our args. */
function prepare(args: string[], o: {tty?: boolean; stdin?: boolean; startTimeoutSeconds?: number} = {}): Box {
  const id = `shim${process.pid}-${++seq}`
  const root = join(dir, String(seq))
  const [upper, work, merged, bundle, stateDir] = ['upper', 'work', 'merged', 'bundle', 'state'].map((d) => join(root, d))
  for (const d of [upper!, work!, merged!, bundle!, stateDir!]) mkdirSync(d, {recursive: true})
  const spec = structuredClone(specTemplate)
  spec.process.terminal = Boolean(o.tty)
  spec.process.args = args
  spec.root.path = merged
  writeFileSync(join(bundle!, 'config.json'), JSON.stringify(spec, null, 2))
  const box: Omit<Box, 'opts'> = {
    id,
    root,
    merged: merged!,
    stateDir: stateDir!,
    log: join(root, 'ctr.log'),
    exitFile: join(root, 'exit.json'),
    diag: join(root, 'shim.log'),
  }
  const opts: SpawnShimOptions = {
    userns: userNsArgv(currentMapping(), [], {mount: true}),
    shimPath: shimPath(),
    id,
    bundle: bundle!,
    runtime: RUNC,
    runtimeArgs: ['--root', join(dir, 'runc')],
    mountProgram: FUSE_OVERLAYFS,
    mountArgs: ['-o', `lowerdir=${lower},upperdir=${upper},workdir=${work},allow_other`, merged!],
    rootfs: merged!,
    stateDir: stateDir!,
    logFile: box.log,
    exitFile: box.exitFile,
    tty: Boolean(o.tty),
    stdin: Boolean(o.stdin),
    diagnosticsFile: box.diag,
    startTimeoutSeconds: o.startTimeoutSeconds,
  }
  return {...box, opts}
}

interface Session {
  client: AttachClient
  stdout: () => string
  stderr: () => string
}

function collect(client: AttachClient): Session {
  const out: Buffer[] = []
  const err: Buffer[] = []
  client.on('stdout', (b) => out.push(b))
  client.on('stderr', (b) => err.push(b))
  return {client, stdout: () => Buffer.concat(out).toString(), stderr: () => Buffer.concat(err).toString()}
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Processes whose command line mentions `needle` (e.g. a fuse-overlayfs daemon for our dir). */
function processesMentioning(needle: string): number[] {
  const found: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      if (readFileSync(`/proc/${name}/cmdline`, 'utf8').includes(needle)) found.push(Number(name))
    } catch {
      // gone
    }
  }
  return found.filter(alive)
}

async function waitGone(pid: number, ms = 5000): Promise<void> {
  const until = Date.now() + ms
  while (alive(pid) && Date.now() < until) await sleep(25)
  expect(alive(pid), `process ${pid} should be gone`).toBe(false)
}

/** Nothing of the container may remain: shim, fuse daemon, state files. */
async function expectCleanedUp(box: Box, shimPid: number): Promise<void> {
  await waitGone(shimPid)
  expect(processesMentioning(box.merged)).toEqual([])
  expect(readdirSync(box.stateDir)).toEqual([])
  const diag = readFileSync(box.diag, 'utf8')
  expect(diag).not.toMatch(/umount|killing leftover|delete failed/)
}

function mountedIn(pid: number, path: string): boolean {
  return readFileSync(`/proc/${pid}/mountinfo`, 'utf8')
    .split('\n')
    .some((l) => l.split(' ')[4] === path && l.includes('fuse'))
}

async function run(box: Box, before?: (c: AttachClient) => void): Promise<{shimPid: number; containerPid: number; s: Session}> {
  const {shimPid, containerPid} = await spawnShim(box.opts)
  const s = collect(await AttachClient.connect(join(box.stateDir, 'attach.sock')))
  before?.(s.client)
  await s.client.start()
  return {shimPid, containerPid, s}
}

const LOG_LINE = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([FP]) (.*)$/

describe('ctr-ts-shim', () => {
  it('logs output in k8s-file format, relays it to a client and reports the exit code', async () => {
    const box = prepare(['sh', '-c', 'echo hi; echo oops >&2; echo two; printf partial; exit 3'])
    const {shimPid, containerPid, s} = await run(box)
    expect(containerPid).toBeGreaterThan(0)
    expect(await s.client.waitExit()).toBe(3)
    expect(s.stdout()).toBe('hi\ntwo\npartial')
    expect(s.stderr()).toBe('oops\n')

    const lines = readFileSync(box.log, 'utf8').split('\n')
    expect(lines.pop()).toBe('')
    const records = lines.map((l) => {
      const m = LOG_LINE.exec(l)
      expect(m, `log line ${JSON.stringify(l)}`).not.toBeNull()
      expect(Number.isNaN(Date.parse(m![1]!))).toBe(false)
      return `${m![2]} ${m![3]} ${m![4]}`
    })
    // Each write is one read here: records split at newlines, the unterminated tail is partial.
    expect(records.filter((r) => r.startsWith('stdout'))).toEqual(['stdout F hi', 'stdout F two', 'stdout P partial'])
    expect(records.filter((r) => r.startsWith('stderr'))).toEqual(['stderr F oops'])

    const exit = JSON.parse(readFileSync(box.exitFile, 'utf8'))
    expect(exit.exitCode).toBe(3)
    expect(exit.signal).toBeNull()
    expect(Math.abs(Date.now() - Date.parse(exit.finishedAt))).toBeLessThan(60_000)
    await expectCleanedUp(box, shimPid)
  })

  it('logs a line longer than the read buffer as partial records that join back into the line', async () => {
    const box = prepare(['sh', '-c', "head -c 20000 /dev/zero | tr '\\0' a; echo; echo next"])
    const {shimPid, s} = await run(box)
    expect(await s.client.waitExit()).toBe(0)
    expect(s.stdout()).toBe('a'.repeat(20000) + '\nnext\n')
    const records = readFileSync(box.log, 'utf8')
      .trimEnd()
      .split('\n')
      .map((l) => LOG_LINE.exec(l)!)
    expect(records.length).toBeGreaterThan(2)
    expect(records.slice(0, -2).every((m) => m[3] === 'P')).toBe(true)
    expect(records.map((m) => m[3]).slice(-2)).toEqual(['F', 'F'])
    expect(records.slice(0, -1).map((m) => m[4]).join('')).toBe('a'.repeat(20000))
    expect(records.at(-1)![4]).toBe('next')
    await expectCleanedUp(box, shimPid)
  })

  it('never blocks on a client that does not read: it is dropped, others get everything', async () => {
    const box = prepare(['sh', '-c', 'head -c 5000000 /dev/zero; echo done >&2'])
    const {shimPid} = await spawnShim(box.opts)
    const sock = join(box.stateDir, 'attach.sock')
    const stuck = connect(sock)
    stuck.pause() // never reads
    stuck.on('error', () => {})
    await new Promise((r) => stuck.once('connect', r))
    const client = await AttachClient.connect(sock)
    let bytes = 0
    client.on('stdout', (b) => (bytes += b.length))
    const s = collect(client)
    await client.start()
    expect(await client.waitExit()).toBe(0)
    expect(bytes).toBe(5_000_000)
    expect(s.stderr()).toBe('done\n')
    expect(readFileSync(box.diag, 'utf8')).toContain('attach client too slow: dropping it')
    stuck.destroy()
    await expectCleanedUp(box, shimPid)
  })

  it('mounts the rootfs in its own mount namespace, forwards stdin, closes it on STDIN_CLOSE', async () => {
    const box = prepare(['sh', '-c', 'read line; echo got:$line; cat; echo end'], {stdin: true})
    const {shimPid, s} = await run(box)
    expect(mountedIn(shimPid, box.merged)).toBe(true)
    expect(processesMentioning(box.merged).length).toBeGreaterThan(0) // the fuse-overlayfs daemon
    s.client.sendStdin(Buffer.from('abc\n'))
    s.client.sendStdin(Buffer.from('more '))
    s.client.sendStdin(Buffer.from('data\n'))
    await sleep(200)
    s.client.closeStdin()
    expect(await s.client.waitExit()).toBe(0)
    expect(s.stdout()).toBe('got:abc\nmore data\nend\n')
    await expectCleanedUp(box, shimPid)
  })

  it('delivers SIGNAL frames: SIGTERM through an init gives 143; SIGKILL gives 137 and signal 9', async () => {
    const term = prepare(['/sbin/tini', '--', 'sleep', '60'])
    const a = await run(term)
    await sleep(300)
    a.s.client.signal(15)
    expect(await a.s.client.waitExit()).toBe(143)
    expect(JSON.parse(readFileSync(term.exitFile, 'utf8')).exitCode).toBe(143)
    await expectCleanedUp(term, a.shimPid)

    const kill = prepare(['sleep', '60'])
    const b = await run(kill)
    await sleep(300)
    // An idle shim's resident memory (conmon's is about 2.5 MB).
    const rss = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${b.shimPid}/status`, 'utf8'))![1])
    console.log(`idle ctr-ts-shim VmRSS: ${rss} kB`)
    expect(rss).toBeLessThanOrEqual(2560)
    b.s.client.signal(9)
    expect(await b.s.client.waitExit()).toBe(137)
    expect(JSON.parse(readFileSync(kill.exitFile, 'utf8'))).toMatchObject({exitCode: 137, signal: 9})
    await expectCleanedUp(kill, b.shimPid)
  })

  it('forwards SIGTERM sent to the shim itself to the container', async () => {
    const box = prepare(['/sbin/tini', '--', 'sleep', '60'])
    const {shimPid, s} = await run(box)
    await sleep(300)
    process.kill(shimPid, 'SIGTERM')
    expect(await s.client.waitExit()).toBe(143)
    await expectCleanedUp(box, shimPid)
  })

  it('runs a tty container through the console socket, with resize and ^D on STDIN_CLOSE', async () => {
    const box = prepare(['sh', '-c', 'tty; stty size; read x; echo got:$x; cat; exit 5'], {tty: true, stdin: true})
    const {shimPid, s} = await run(box, (c) => c.resize(33, 77))
    s.client.sendStdin(Buffer.from('hello\n'))
    await sleep(300)
    s.client.closeStdin()
    expect(await s.client.waitExit()).toBe(5)
    const out = s.stdout()
    expect(out).toMatch(/^\/dev\/pts\/\d+\r$/m)
    expect(out).toMatch(/^33 77\r$/m)
    expect(out).toMatch(/^got:hello\r$/m)
    expect(s.stderr()).toBe('')
    const log = readFileSync(box.log, 'utf8')
    expect(log).toMatch(/ stdout F got:hello\r$/m)
    expect(log).not.toMatch(/ stderr /)
    await expectCleanedUp(box, shimPid)
  })

  it('reports a missing command as 127 and a non-executable one as 126, leaving nothing behind', async () => {
    const missing = prepare(['no-such-command'])
    const err1 = await spawnShim(missing.opts).catch((e: unknown) => e)
    expect(err1).toBeInstanceOf(CommandNotFoundError)
    expect((err1 as Error).message).toContain('no-such-command')

    const notExec = prepare(['/etc'])
    const err2 = await spawnShim(notExec.opts).catch((e: unknown) => e)
    expect(err2).toBeInstanceOf(CommandNotInvokableError)
    expect((err2 as Error).message).toMatch(/permission denied/)

    for (const box of [missing, notExec]) {
      const until = Date.now() + 5000
      while (processesMentioning(box.merged).length > 0 && Date.now() < until) await sleep(25)
      expect(processesMentioning(box.merged)).toEqual([])
      expect(readdirSync(box.stateDir)).toEqual([])
      expect(existsSync(box.exitFile)).toBe(false)
    }
  })

  it('removes a container that is never started once the start timeout passes', async () => {
    const box = prepare(['true'], {startTimeoutSeconds: 1})
    const {shimPid} = await spawnShim(box.opts)
    expect(alive(shimPid)).toBe(true)
    await waitGone(shimPid, 8000)
    expect(processesMentioning(box.merged)).toEqual([])
    expect(readdirSync(box.stateDir)).toEqual([])
    expect(existsSync(box.exitFile)).toBe(false)
  })

  it('outlives the process that spawned it', async () => {
    const box = prepare(['sh', '-c', 'sleep 2; echo late; exit 4'])
    const spawnJs = pathToFileURL(join(packageRoot, 'dist', 'shim', 'spawn.js')).href
    const attachJs = pathToFileURL(join(packageRoot, 'dist', 'shim', 'attach.js')).href
    expect(existsSync(new URL(spawnJs)), 'dist/ must be built (npm run build)').toBe(true)
    const script = `
      const {spawnShim} = await import(${JSON.stringify(spawnJs)})
      const {AttachClient} = await import(${JSON.stringify(attachJs)})
      const opts = JSON.parse(process.argv[1])
      const r = await spawnShim(opts)
      const c = await AttachClient.connect(opts.stateDir + '/attach.sock')
      await c.start()
      c.close()
      process.stdout.write(JSON.stringify(r))
    `
    const parent = spawn(process.execPath, ['--input-type=module', '-e', script, JSON.stringify(box.opts)], {stdio: ['ignore', 'pipe', 'inherit']})
    let text = ''
    parent.stdout.on('data', (b: Buffer) => (text += b))
    const code = await new Promise<number | null>((r) => parent.on('exit', r))
    expect(code).toBe(0)
    const {shimPid, containerPid} = JSON.parse(text) as {shimPid: number; containerPid: number}
    expect(alive(parent.pid!)).toBe(false)
    expect(alive(shimPid)).toBe(true)
    expect(alive(containerPid)).toBe(true)
    expect(readFileSync(join(box.stateDir, 'shim.pid'), 'utf8').trim()).toBe(String(shimPid))

    const s = collect(await AttachClient.connect(join(box.stateDir, 'attach.sock')))
    expect(await s.client.waitExit()).toBe(4)
    expect(s.stdout()).toBe('late\n')
    expect(readFileSync(box.log, 'utf8')).toMatch(/ stdout F late\n$/)
    const until = Date.now() + 5000
    while (alive(shimPid) && Date.now() < until) await sleep(25)
    expect(alive(shimPid)).toBe(false)
    expect(processesMentioning(box.merged)).toEqual([])
  })
})
