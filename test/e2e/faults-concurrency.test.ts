/**
 * Concurrency and leaks (issue 17, Faults), as the unprivileged user: 8 concurrent `run --rm` of
 * one image, 8 concurrent pulls, `rmi` while a run starts: each succeeds or fails with one clean
 * line; then 30 `run`/`rm` cycles leave no process, mount, fd, directory entry or name behind
 * (counted before and after).
 */
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {footprint, psAll} from '../harness/leaks.js'
import {expectBlobsSound} from '../harness/store.js'

let t: TempRoot
let image: string
const env = () => t.env
const CYCLES = 30

function cleanFailure(r: {exitCode: number; stderr: string}): void {
  if (r.exitCode === 0) return
  const lines = r.stderr.trim().split('\n')
  expect(lines, r.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^ctr-ts: /)
}

beforeAll(() => {
  t = tempRoot()
  image = testEnv().fixtures['multilayer-gzip']!.ref
})

afterAll(async () => {
  await t?.cleanup()
})

describe('concurrency', () => {
  it('8 concurrent pulls, then 8 concurrent run --rm, then rmi while a run starts', async () => {
    const pulls = await Promise.all(Array.from({length: 8}, () => ctr(['pull', '-q', image], {env: env(), timeoutMs: 120_000})))
    for (const p of pulls) expect(p.exitCode, p.stderr).toBe(0)
    expectBlobsSound(t.root)
    const runs = await Promise.all(Array.from({length: 8}, (_, i) => ctr(['run', '--rm', image, 'echo', `r${i}`], {env: env(), timeoutMs: 120_000})))
    runs.forEach((r, i) => {
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe(`r${i}\n`)
    })
    const [run, rmi] = await Promise.all([
      ctr(['run', '--rm', image, 'echo', 'raced'], {env: env(), timeoutMs: 120_000}),
      new Promise((r) => setTimeout(r, 150)).then(() => ctr(['rmi', image], {env: env()})),
    ])
    cleanFailure(run)
    cleanFailure(rmi)
    if (run.exitCode === 0) expect(run.stdout).toBe('raced\n')
    expect(await psAll(env())).toEqual([])
    // whatever won, the store is consistent and the image can be pulled and run again
    const check = await ctr(['system', 'check', '--store'], {env: env()})
    expect(check.exitCode, check.stdout).toBe(0)
    expect((await ctr(['pull', '-q', image], {env: env()})).exitCode).toBe(0)
    expect((await ctr(['run', '--rm', image, 'true'], {env: env()})).exitCode).toBe(0)
  }, 300_000)

  it(`${CYCLES} run/rm cycles leave no process, mount, fd, directory or name behind`, async () => {
    expect((await ctr(['pull', '-q', image], {env: env()})).exitCode).toBe(0)
    const before = footprint(t.root, t.runRoot)
    const start = Date.now()
    for (let i = 0; i < CYCLES; i++) {
      const r = await ctr(['run', '-d', '--name', `cycle${i}`, '-p', '127.0.0.1::80', image, 'sleep', '1000'], {env: env()})
      expect(r.exitCode, r.stderr).toBe(0)
      const rm = await ctr(['rm', '-f', `cycle${i}`], {env: env()})
      expect(rm.exitCode, rm.stderr).toBe(0)
    }
    console.log(`[faults] ${CYCLES} run -d -p/rm -f cycles in ${((Date.now() - start) / 1000).toFixed(1)} s`)
    const after = footprint(t.root, t.runRoot)
    expect(after.processes).toEqual(before.processes)
    expect(after.mounts).toEqual(before.mounts)
    expect(after.fds).toEqual(before.fds)
    expect(after.dirs).toEqual(before.dirs)
  }, 600_000)
})
