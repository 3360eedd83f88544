import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {eventLine, lastDieExitCode} from '../../src/events/journal.js'
import {storeLayout} from '../../src/paths.js'
import {ShimTask} from '../../src/runtime/task.js'

describe('waiting on a task that is removed', () => {
  it('returns (undefined) once the task directory is gone, instead of waiting for an exit file forever', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ctr-wait-'))
    const dir = join(root, 'c')
    mkdirSync(dir)
    // started, shim alive as far as the record says (this process): the task counts as running
    writeFileSync(join(dir, 'state.json'), JSON.stringify({startedAt: new Date().toISOString(), shimPid: process.pid}))
    const f = (n: string) => join(dir, n)
    const task = new ShimTask('x', () => {
      throw new Error('no runtime needed')
    }, {bundle: f('bundle'), rootfs: f('merged'), stateFile: f('state.json'), exitFile: f('exit.json'), logFile: f('log'), diagnosticsFile: f('shim.log'), runDir: f('run'), attachSocket: f('run/a.sock'), restartFile: f('restart.json')})
    const started = Date.now()
    const waiting = task.wait(20_000)
    setTimeout(() => rmSync(dir, {recursive: true, force: true}), 100)
    expect(await waiting).toBeUndefined()
    expect(Date.now() - started).toBeLessThan(5_000)
  })

  it("finds the exit code in the shim's die event", () => {
    const store = storeLayout(mkdtempSync(join(tmpdir(), 'ctr-journal-')))
    const id = 'a'.repeat(64)
    writeFileSync(store.events, [
      eventLine('container', 'die', id, {exitCode: '1', name: 'x'}),
      eventLine('container', 'start', id, {name: 'x'}),
      eventLine('container', 'die', 'b'.repeat(64), {exitCode: '9'}),
      eventLine('container', 'die', id, {exitCode: '3', name: 'x'}),
      eventLine('container', 'destroy', id, {name: 'x'}),
    ].join(''))
    expect(lastDieExitCode(store, id)).toBe(3)
    expect(lastDieExitCode(store, 'c'.repeat(64))).toBeUndefined()
  })
})
