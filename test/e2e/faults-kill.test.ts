/**
 * SIGKILL of the CLI at 20 random points of pull, run, stop, rm, rmi and prune (issue 17,
 * Faults), as the unprivileged user. Each point is a real SIGKILL of the real `ctr-ts` process
 * after a delay drawn from a seeded PRNG (the seed is printed; CTR_TS_TEST_SEED replays a run),
 * within the time that command takes uninterrupted here (measured first). After every kill: no
 * blob is half-visible (each file under blobs/ hashes to its name), `ps` is truthful, and the
 * next command works. At the end, ordinary commands (rm -f, rmi, system prune) leave nothing:
 * no process, mount, fd, directory entry or name of this store.
 */
import {type ChildProcess} from 'node:child_process'
import {mkdirSync, readdirSync, utimesSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, ctrSpawn, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {footprint, psAll, seededRandom, untruthful} from '../harness/leaks.js'
import {expectBlobsSound} from '../harness/store.js'

const seed = Number(process.env.CTR_TS_TEST_SEED) || Date.now() % 1_000_000
const random = seededRandom(seed)

let t: TempRoot
let image: string
let other: string
const env = () => t.env

type Op = 'pull' | 'run' | 'stop' | 'rm' | 'rmi' | 'prune'
/** 20 kill points. */
const SCHEDULE: Op[] = ['pull', 'pull', 'pull', 'pull', 'run', 'run', 'run', 'run', 'stop', 'stop', 'stop', 'rm', 'rm', 'rm', 'rmi', 'rmi', 'rmi', 'prune', 'prune', 'prune']

interface KillPoint {
  op: Op
  delayMs: number
  /** killed while running, or it had already finished */
  outcome: 'killed' | 'finished'
}
const points: KillPoint[] = []

async function ok(args: string[]): Promise<string> {
  const r = await ctr(args, {env: env(), timeoutMs: 60_000})
  expect(r.exitCode, `ctr-ts ${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r.stdout
}

function exited(child: ChildProcess): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  return new Promise((resolve) => child.once('close', (code, signal) => resolve({code, signal})))
}

/** Runs `args` to the end and returns how long it took. */
async function timed(args: string[]): Promise<number> {
  const start = Date.now()
  await ok(args)
  return Date.now() - start
}

/** Starts `args` and SIGKILLs it after `delayMs` (unless it finished before). */
async function killAfter(op: Op, args: string[], durationMs: number): Promise<void> {
  const delayMs = Math.round(50 + random() * Math.max(100, durationMs * 0.9))
  const child = ctrSpawn(args, {env: env()})
  child.stdout!.resume()
  child.stderr!.resume()
  const done = exited(child)
  const finished = await Promise.race([done.then(() => true), new Promise<false>((r) => setTimeout(() => r(false), delayMs))])
  if (!finished) child.kill('SIGKILL')
  const {signal} = await done
  const outcome = signal === 'SIGKILL' ? 'killed' : 'finished'
  points.push({op, delayMs, outcome})
  console.log(`[faults] seed ${seed} point ${points.length}: ${op} (${args.join(' ')}) ${outcome} at ${delayMs} ms of ~${durationMs} ms`)
}

/** After every kill: blobs sound, ps truthful. */
async function expectSane(): Promise<void> {
  expectBlobsSound(t.root)
  const ps = await psAll(env())
  expect(untruthful(ps, t.root)).toEqual([])
}

/** Removes container `name` whatever state the kill left it in (also "no such container"). */
async function forceRemove(name: string): Promise<void> {
  const r = await ctr(['rm', '-f', name], {env: env(), timeoutMs: 60_000})
  if (r.exitCode !== 0) expect(r.stderr.trim()).toBe(`ctr-ts: no such container: ${name}`)
  expect((await psAll(env())).some((c) => c.Names.includes(name))).toBe(false)
}

beforeAll(async () => {
  console.log(`[faults] seed ${seed} (CTR_TS_TEST_SEED=${seed} replays these kill points)`)
  t = tempRoot()
  image = testEnv().fixtures['multilayer-gzip']!.ref
  other = testEnv().fixtures.busybox!.ref
}, 60_000)

afterAll(async () => {
  await t?.cleanup()
})

describe('SIGKILL of the CLI at 20 random points', () => {
  it('pull, run, stop, rm, rmi, prune: after each kill blobs are sound, ps is truthful and the next command works; then nothing leaks', async () => {
    const before = footprint(t.root, t.runRoot)
    const durations = new Map<Op, number>()
    const measure = async (op: Op, f: () => Promise<number>) => {
      if (!durations.has(op)) durations.set(op, await f())
      return durations.get(op)!
    }
    let n = 0
    for (const op of SCHEDULE) {
      n++
      const name = `k${n}`
      switch (op) {
        case 'pull': {
          // from nothing: blobs, unpack and record all in play
          await ctr(['rmi', '-f', image], {env: env()})
          await ok(['system', 'prune', '-f'])
          const d = await measure('pull', async () => {
            const ms = await timed(['pull', '-q', image])
            await ok(['rmi', image])
            await ok(['system', 'prune', '-f'])
            return ms
          })
          await killAfter(op, ['pull', '-q', image], d)
          await expectSane()
          await ok(['pull', '-q', image])
          break
        }
        case 'run': {
          await ok(['pull', '-q', image])
          const d = await measure('run', async () => {
            const ms = await timed(['run', '-d', '--name', 'calibrate-run', image, 'sleep', '1000'])
            await ok(['rm', '-f', 'calibrate-run'])
            return ms
          })
          await killAfter(op, ['run', '-d', '--name', name, image, 'sleep', '1000'], d)
          await expectSane()
          await forceRemove(name)
          // the name is free again and the image runs
          expect(await ok(['run', '--rm', '--name', name, image, 'echo', 'again'])).toBe('again\n')
          break
        }
        case 'stop': {
          await ok(['pull', '-q', image])
          await ok(['run', '-d', '--name', name, image, 'sleep', '1000'])
          const d = await measure('stop', async () => {
            await ok(['run', '-d', '--name', 'calibrate-stop', image, 'sleep', '1000'])
            const ms = await timed(['stop', '-t', '1', 'calibrate-stop'])
            await ok(['rm', 'calibrate-stop'])
            return ms
          })
          await killAfter(op, ['stop', '-t', '1', name], d)
          await expectSane()
          await ok(['stop', '-t', '1', name])
          expect((await psAll(env())).find((c) => c.Names.includes(name))?.State).toBe('exited')
          await ok(['rm', name])
          break
        }
        case 'rm': {
          await ok(['pull', '-q', image])
          await ok(['run', '-d', '--name', name, image, 'sleep', '1000'])
          const d = await measure('rm', async () => {
            await ok(['run', '-d', '--name', 'calibrate-rm', image, 'sleep', '1000'])
            return timed(['rm', '-f', 'calibrate-rm'])
          })
          await killAfter(op, ['rm', '-f', name], d)
          await expectSane()
          await forceRemove(name)
          break
        }
        case 'rmi': {
          await ok(['pull', '-q', image])
          await ok(['pull', '-q', other])
          const d = await measure('rmi', async () => {
            const ms = await timed(['rmi', other])
            await ok(['pull', '-q', other])
            return ms
          })
          await killAfter(op, ['rmi', other, image], d)
          await expectSane()
          await ctr(['rmi', other, image], {env: env()})
          await ok(['pull', '-q', image])
          expect(await ok(['run', '--rm', image, 'cat', '/data/keep'])).toBe('keep\n')
          break
        }
        case 'prune': {
          await ok(['pull', '-q', image])
          await ok(['pull', '-q', other])
          await ok(['run', '--name', `${name}-stopped`, image, 'true'])
          const d = await measure('prune', async () => {
            const ms = await timed(['system', 'prune', '-a', '-f'])
            await ok(['pull', '-q', image])
            await ok(['pull', '-q', other])
            await ok(['run', '--name', `${name}-stopped`, image, 'true'])
            return ms
          })
          await killAfter(op, ['system', 'prune', '-a', '-f'], d)
          await expectSane()
          await ok(['system', 'prune', '-a', '-f'])
          await ok(['pull', '-q', image])
          expect(await ok(['run', '--rm', image, 'echo', 'fine'])).toBe('fine\n')
          break
        }
      }
    }
    expect(points).toHaveLength(20)
    console.log(`[faults] seed ${seed}: ${points.filter((p) => p.outcome === 'killed').length} of 20 points killed a running command`)

    // ordinary commands clean up everything
    for (const c of await psAll(env())) await ok(['rm', '-f', c.Id])
    await ok(['system', 'prune', '-a', '-f'])
    const check = await ctr(['system', 'check', '--store'], {env: env()})
    expect(check.stdout.trim().split('\n').at(-1), check.stdout).toBe('store is consistent')
    expect(check.exitCode).toBe(0)
    const after = footprint(t.root, t.runRoot)
    expect(after.processes).toEqual([])
    expect(after.mounts).toEqual([])
    expect(after.fds).toEqual([])
    for (const [dir, names] of Object.entries(after.dirs)) expect(names, dir).toEqual(before.dirs[dir] ?? [])
  }, 600_000)

  it('an empty lock or name file (a CLI killed between creating it and writing its owner) blocks nothing', async () => {
    // Older versions created these with open(O_EXCL) then write; a kill between the two left
    // them empty, and the next pull waited for the lock until it timed out.
    mkdirSync(join(t.root, 'locks'), {recursive: true})
    mkdirSync(join(t.root, 'names'), {recursive: true})
    const old = new Date(Date.now() - 60_000)
    for (const file of [join(t.root, 'locks', 'gc.lock'), join(t.root, 'names', 'stuck')]) {
      writeFileSync(file, '')
      utimesSync(file, old, old)
    }
    const start = Date.now()
    await ctr(['rmi', '-f', image], {env: env()})
    await ok(['pull', '-q', image])
    expect(await ok(['run', '--rm', '--name', 'stuck', image, 'echo', 'free'])).toBe('free\n')
    expect(Date.now() - start).toBeLessThan(30_000)
    expect(readdirSync(join(t.root, 'locks')).filter((n) => n.startsWith('.'))).toEqual([])
  }, 120_000)
})
