// The runtime directory holds attach sockets and runc's state: another local user must never be
// able to own it or write into it (issue: with XDG_RUNTIME_DIR unset it used to be taken as is
// from $TMPDIR/ctr-ts-run-UID even when someone else had created it first).
import {chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'

describe('runtime directory', () => {
  let t: TempRoot
  let scratch: string
  const uid = process.getuid?.() ?? 0
  beforeAll(() => {
    t = tempRoot()
    scratch = mkdtempSync(join(tmpdir(), 'ctr-ts-rundir-'))
  })
  afterAll(async () => {
    rmSync(scratch, {recursive: true, force: true})
    await t.cleanup()
  })

  /** The environment of a session without XDG_RUNTIME_DIR (su, ssh without logind, CI). */
  function noXdg(tmp: string): Record<string, string> {
    const {CTR_TS_RUNROOT: _unused, ...env} = t.env
    return {...env, XDG_RUNTIME_DIR: '', TMPDIR: tmp}
  }

  it('creates a private $TMPDIR/ctr-ts-run-UID when XDG_RUNTIME_DIR is unset', async () => {
    const tmp = join(scratch, 'fresh')
    mkdirSync(tmp, {mode: 0o1777})
    chmodSync(tmp, 0o1777)
    const r = await ctr(['ps'], {env: noXdg(tmp)})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    const st = statSync(join(tmp, `ctr-ts-run-${uid}`))
    expect(st.uid).toBe(uid)
    expect(st.mode & 0o777).toBe(0o700)
  })

  it('refuses a runtime directory that others can write', async () => {
    const tmp = join(scratch, 'taken')
    mkdirSync(tmp, {mode: 0o1777})
    chmodSync(tmp, 0o1777)
    const planted = join(tmp, `ctr-ts-run-${uid}`)
    mkdirSync(planted)
    chmodSync(planted, 0o777)
    const r = await ctr(['ps'], {env: noXdg(tmp)})
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toBe('')
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/^ctr-ts: runtime directory .*ctr-ts-run-\d+ is writable by others .*XDG_RUNTIME_DIR/)
    expect(existsSync(join(planted, 'c'))).toBe(false)
    expect(existsSync(join(planted, 'runc'))).toBe(false)
  })

  it('refuses a runtime directory that is a symbolic link', async () => {
    const tmp = join(scratch, 'link')
    mkdirSync(tmp, {mode: 0o1777})
    chmodSync(tmp, 0o1777)
    const elsewhere = join(scratch, 'elsewhere')
    mkdirSync(elsewhere, {mode: 0o700})
    symlinkSync(elsewhere, join(tmp, `ctr-ts-run-${uid}`))
    const r = await ctr(['ps'], {env: noXdg(tmp)})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/^ctr-ts: runtime directory .* is a symbolic link/)
    expect(existsSync(join(elsewhere, 'runc'))).toBe(false)
  })

  it('refuses a runtime directory owned by another user', async () => {
    // /tmp belongs to root: as a runtime directory it is someone else's
    const r = await ctr(['ps'], {env: {...t.env, CTR_TS_RUNROOT: '/tmp'}})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/^ctr-ts: runtime directory \/tmp belongs to uid 0, not to you/)
  })

  it('refuses a path through a directory others can write without the sticky bit', async () => {
    const open = join(scratch, 'open')
    mkdirSync(open)
    chmodSync(open, 0o777)
    const r = await ctr(['ps'], {env: {...t.env, CTR_TS_RUNROOT: join(open, 'run')}})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toMatch(/^ctr-ts: runtime directory path .*\/open is writable by others without the sticky bit/)
    expect(existsSync(join(open, 'run'))).toBe(false)
  })
})
