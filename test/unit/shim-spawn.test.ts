/**
 * spawnShim's wait for the shim's report: a shim that reports and exits at once, while the
 * caller's onSpawned (recording its pid) is still running, is heard (a missed report once made
 * `run` wait 120 s for a container whose kernel overlay mount was refused).
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {spawnShim, type SpawnShimOptions} from '../../src/shim/spawn.js'

const dir = mkdtempSync(join(tmpdir(), 'ctr-shim-spawn-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

/** Options whose "user namespace" is sh running `script` (the shim's argv follows as $0 $1 ...). */
function options(script: string, onSpawned?: SpawnShimOptions['onSpawned']): SpawnShimOptions {
  return {
    userns: {file: '/bin/sh', args: ['-c', script]},
    shimPath: 'shim',
    id: 'c1',
    bundle: dir,
    runtime: 'runc',
    runtimeArgs: [],
    rootfs: join(dir, 'rootfs'),
    stateDir: dir,
    logFile: join(dir, 'log'),
    exitFile: join(dir, 'exit'),
    tty: false,
    stdin: false,
    diagnosticsFile: join(dir, 'diag'),
    timeoutMs: 5000,
    onSpawned,
  }
}
const slowRecord = () => new Promise<void>((r) => setTimeout(r, 300))

describe('spawnShim', () => {
  it('hears an error reported (and the shim gone) while onSpawned still runs', async () => {
    const started = Date.now()
    const r = await spawnShim(options('echo "error mount refused" >&3; exit 1', slowRecord))
    expect(r).toEqual({error: 'mount refused'})
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('hears a created report sent before onSpawned returned', async () => {
    const r = await spawnShim(options('echo "created 4242" >&3; exec 3>&-; sleep 0.5', slowRecord))
    expect(r).toMatchObject({containerPid: 4242})
  })

  it('a shim that exits without a word fails at once with its last diagnostic line', async () => {
    const started = Date.now()
    await expect(spawnShim(options('echo "shim: bad thing" >&2; exit 3', slowRecord))).rejects.toThrow(/shim failed \(exit code 3\): shim: bad thing/)
    expect(Date.now() - started).toBeLessThan(3000)
  })

  it('onSpawned failing kills the shim and is the error', async () => {
    const fail = () => Promise.reject(new Error('cannot record'))
    await expect(spawnShim(options('sleep 5', fail))).rejects.toThrow('cannot record')
  })
})
