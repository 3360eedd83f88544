import {existsSync, mkdtempSync, rmSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir, userInfo} from 'node:os'
import {join} from 'node:path'
import {afterAll, afterEach, beforeAll, beforeEach, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'

interface CheckJson {
  ok: boolean
  checks: Array<{id: string; status: string; detail: string; fix?: string; required: boolean}>
}

const SYSTEM_DIRS = ['/usr/local/bin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/sbin', '/sbin']

/** A PATH directory with every tool ctr-ts needs except `hidden`. */
function pathWithout(hidden: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-path-'))
  for (const tool of ['newuidmap', 'newgidmap', 'runc', 'slirp4netns', 'tini', 'tini-static', 'catatonit', 'true', 'fuse-overlayfs']) {
    if (tool === hidden) continue
    const found = SYSTEM_DIRS.map((d) => join(d, tool)).find((p) => existsSync(p))
    if (found) symlinkSync(found, join(dir, tool))
  }
  return dir
}

describe('system check', () => {
  let t: TempRoot
  const dirs: string[] = []
  beforeAll(() => {
    t = tempRoot()
  })
  afterAll(async () => {
    for (const d of dirs) rmSync(d, {recursive: true, force: true})
    await t.cleanup()
  })

  it('passes on this machine as an unprivileged user', async () => {
    expect(process.getuid?.()).not.toBe(0)
    const r = await ctr(['system', 'check'], {env: t.env})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).not.toMatch(/^FAIL/m)
    for (const what of ['user namespaces', 'newuidmap', 'fuse-overlayfs', 'OCI runtime', 'slirp4netns', '/etc/subuid range']) {
      expect(r.stdout).toMatch(new RegExp(`^ok +${what.replace('/', '\\/')}`, 'm'))
    }
    // cgroup v1/hybrid here: a warning that explains the consequence
    expect(r.stdout).toMatch(/^(WARN|ok  ) cgroups: /m)
  })

  it('--format json', async () => {
    const r = await ctr(['system', 'check', '--format', 'json'], {env: t.env})
    expect(r.exitCode).toBe(0)
    const out = JSON.parse(r.stdout) as CheckJson
    expect(out.ok).toBe(true)
    expect(out.checks.find((c) => c.id === 'userns')?.status).toBe('ok')
  })

  it('fails with the fix when fuse-overlayfs is not on PATH', async () => {
    const dir = pathWithout('fuse-overlayfs')
    dirs.push(dir)
    const r = await ctr(['system', 'check'], {env: {...t.env, PATH: dir}})
    expect(r.exitCode).toBe(1)
    expect(r.stdout).toContain('FAIL fuse-overlayfs: not found on PATH (fix: sudo apt-get install fuse-overlayfs)')
    expect(r.stdout).toMatch(/^ok +user namespaces/m)
    expect(r.stderr).toBe('ctr-ts: missing required prerequisites: fuse-overlayfs\n')
  })

  it('fails with the fix when the subuid file has no range for the user', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-subuid-'))
    dirs.push(dir)
    const file = join(dir, 'subuid')
    writeFileSync(file, 'somebodyelse:100000:65536\n')
    const r = await ctr(['system', 'check', '--format', 'json'], {env: {...t.env, CTR_TS_SUBUID_FILE: file}})
    expect(r.exitCode).toBe(1)
    const out = JSON.parse(r.stdout) as CheckJson
    expect(out.ok).toBe(false)
    const sub = out.checks.find((c) => c.id === 'subuid')!
    expect(sub.status).toBe('fail')
    expect(sub.detail).toContain(`no range for user ${userInfo().username}`)
    expect(sub.fix).toContain('usermod --add-subuids')
    expect(r.stderr).toBe(`ctr-ts: missing required prerequisites: ${file} range\n`)
  })
})

describe('system info, prune and reset', () => {
  let t: TempRoot
  beforeEach(() => {
    t = tempRoot()
  })
  afterEach(() => t.cleanup())

  it('info reports versions, the store and counts', async () => {
    const {fixtures} = testEnv()
    expect((await ctr(['pull', fixtures.busybox!.ref], {env: t.env})).exitCode).toBe(0)
    const r = await ctr(['system', 'info', '--format', 'json'], {env: t.env})
    expect(r.exitCode).toBe(0)
    const info = JSON.parse(r.stdout)
    expect(info.versions['ctr-ts']).toMatch(/^\d+\.\d+\.\d+/)
    expect(info.versions.node).toBe(process.version)
    expect(info.versions.runc).toMatch(/runc version/)
    expect(info.versions['fuse-overlayfs']).toMatch(/fuse-overlayfs/)
    expect(info.versions.slirp4netns).toMatch(/slirp4netns/)
    expect(info.store.root).toBe(t.root)
    expect(info.store.sizeBytes).toBeGreaterThan(0)
    expect(info.images).toBe(1)
    expect(info.layers).toBe(fixtures.busybox!.diffIds.length)
    expect(info.containers).toEqual({total: 0, running: 0, stopped: 0})
    const text = await ctr(['system', 'info'], {env: t.env})
    expect(text.stdout).toContain(`Store: ${t.root}`)
  })

  it('prune refuses without -f when stdin is not a terminal', async () => {
    const r = await ctr(['system', 'prune'], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe('ctr-ts: system prune needs confirmation: use -f/--force (stdin is not a terminal)\n')
  })

  it('prune releases a name whose container is gone (an rm killed between its directory and its name)', async () => {
    const {fixtures} = testEnv()
    const made = await ctr(['create', '--name', 'kept', fixtures.busybox!.ref, 'true'], {env: t.env})
    expect(made.exitCode, made.stderr).toBe(0)
    const names = join(t.root, 'names')
    writeFileSync(join(names, 'orphan'), 'f'.repeat(64)) // reserved for a container that does not exist
    const r = await ctr(['system', 'prune', '-f'], {env: t.env})
    expect(r.exitCode, r.stderr).toBe(0)
    expect(existsSync(join(names, 'orphan'))).toBe(false)
    expect(existsSync(join(names, 'kept'))).toBe(false) // a stopped container: pruned with its name
    const again = await ctr(['create', '--name', 'orphan', fixtures.busybox!.ref, 'true'], {env: t.env})
    expect(again.exitCode, again.stderr).toBe(0)
    expect(existsSync(join(names, 'orphan'))).toBe(true) // reserved again by the new container
  })

  it('prune -a removes stopped containers and unused images, leaves in-use images alone', async () => {
    const {fixtures} = testEnv()
    const busybox = fixtures.busybox!
    const other = fixtures['multilayer-gzip']!
    expect((await ctr(['pull', busybox.ref], {env: t.env})).exitCode).toBe(0)
    expect((await ctr(['pull', other.ref], {env: t.env})).exitCode).toBe(0)
    const running = await ctr(['run', '-d', '--name', 'keeper', busybox.ref, 'sleep', '600'], {env: t.env})
    expect(running.stderr).toBe('')
    expect(running.exitCode).toBe(0)
    const stopped = await ctr(['create', '--name', 'stopped', other.ref, 'true'], {env: t.env})
    expect(stopped.exitCode).toBe(0)

    const r = await ctr(['system', 'prune', '-a', '-f'], {env: t.env})
    expect(r.stderr).toBe('')
    expect(r.exitCode).toBe(0)
    expect(r.stdout).toContain(stopped.stdout.trim())
    expect(r.stdout).toContain(`untagged: ${other.ref}`)
    expect(r.stdout).not.toContain(busybox.ref)

    const ps = await ctr(['ps', '-a', '--format', '{{.Names}}'], {env: t.env})
    expect(ps.stdout).toBe('keeper\n')
    const info = JSON.parse((await ctr(['system', 'info', '--format', 'json'], {env: t.env})).stdout)
    expect(info.images).toBe(1)
    expect(info.layers).toBe(busybox.diffIds.length)
    // the running container still works
    const exec = await ctr(['exec', 'keeper', 'true'], {env: t.env})
    expect(exec.exitCode).toBe(0)

    const reset = await ctr(['system', 'reset', '-f'], {env: t.env})
    expect(reset.stderr).toBe('')
    expect(reset.exitCode).toBe(0)
    const after = JSON.parse((await ctr(['system', 'info', '--format', 'json'], {env: t.env})).stdout)
    expect(after.images).toBe(0)
    expect(after.layers).toBe(0)
    expect(after.containers.total).toBe(0)
  })

  it('reset refuses without -f when stdin is not a terminal', async () => {
    const r = await ctr(['system', 'reset'], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe('ctr-ts: system reset needs confirmation: use -f/--force (stdin is not a terminal)\n')
  })
})
