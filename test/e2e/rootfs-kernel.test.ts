/**
 * The kernel overlayfs rootfs driver (`rootfs.driver: overlay`, CTR_TS_STORAGE_DRIVER=overlay):
 * a container of the multilayer fixture (its top layer deletes /data/gone and replaces /data/dir
 * opaquely) sees the layers as fuse-overlayfs shows them, on a kernel overlay mount; diff, commit
 * and cp read and write its upper directory; rm leaves no mount, process or file; the layers'
 * kernel forms go with the layers. fuse-overlayfs stays the default (its tests are the others).
 */
import {execFileSync} from 'node:child_process'
import {cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, REPO_ROOT, removeTree, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {MULTILAYER} from '../harness/fixtures.js'
import {footprint} from '../harness/leaks.js'

const env = testEnv()
const ml = env.fixtures['multilayer-gzip']!
const M = MULTILAYER
let t: TempRoot
const kernel = () => ({...t.env, CTR_TS_STORAGE_DRIVER: 'overlay'})
const kernelForms = () => readdirSync(join(t.root, 'layers')).filter((n) => n.endsWith('.kernel'))

async function ok(args: string[], e: Record<string, string> = kernel()): Promise<string> {
  const r = await ctr(args, {env: e, timeoutMs: 90_000})
  expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0)
  return r.stdout
}

beforeAll(async () => {
  t = tempRoot()
  await ok(['pull', '-q', ml.ref])
}, 120_000)
afterAll(async () => {
  await t?.cleanup()
})

describe('kernel overlayfs rootfs driver', () => {
  it('info shows the driver: fuse-overlayfs by default, overlay when chosen', async () => {
    expect(await ok(['system', 'info', '--format', '{{.Driver}}'], t.env)).toBe('fuse-overlayfs\n')
    expect(await ok(['system', 'info', '--format', '{{.Driver}}'])).toBe('overlay\n')
    expect(await ok(['system', 'info'])).toMatch(/^ {2}Storage driver: overlay$/m)
    const check = await ctr(['system', 'check'], {env: kernel()})
    expect(check.stdout).toMatch(/kernel overlayfs \(rootfs\.driver overlay\).*kernel \d+\.\d+ mounts overlayfs/)
    const bad = await ctr(['system', 'info'], {env: {...t.env, CTR_TS_STORAGE_DRIVER: 'zfs'}})
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/rootfs\.driver.*fuse-overlayfs, overlay/)
  }, 60_000)

  it('a container sees deleted files gone and an opaque directory with only its new content, on a kernel overlay mount', async () => {
    const script = [
      `awk '$5 == "/" {for (i = 7; i < NF; i++) if ($i == "-") print $(i + 1)}' /proc/self/mountinfo`,
      `test -e ${M.gone} && echo present || echo absent`,
      'ls /data/dir',
      `cat ${M.dirNew.path} ${M.keep.path}`,
      `stat -c %u:%g ${M.owned2000.path}`,
      'ls -a /data | grep -c "^\\.wh\\." || true',
    ].join('; ')
    const out = await ok(['run', '--rm', '--network', 'none', ml.ref, 'sh', '-c', script])
    expect(out).toBe(`overlay\nabsent\nnew\n${M.dirNew.content}${M.keep.content}2000:3000\n0\n`)
    // the whiteout layer got its kernel form beside it; the layers without markers need an empty one
    expect(kernelForms()).toHaveLength(ml.diffIds.length)
    // the same image with fuse-overlayfs (the default) sees the same
    const fuse = await ok(['run', '--rm', '--network', 'none', ml.ref, 'sh', '-c', script], t.env)
    expect(fuse).toBe(`fuse.fuse-overlayfs\nabsent\nnew\n${M.dirNew.content}${M.keep.content}2000:3000\n0\n`)
  }, 120_000)

  it('writes land in the upper directory: diff, commit and cp (running and stopped) work; rm leaves nothing', async () => {
    const before = footprint(t.root, t.runRoot)
    await ok(['run', '--name', 'k1', '--network', 'none', ml.ref, 'sh', '-c', `echo hello > /data/new.txt && rm ${M.keep.path} && rm -rf /data/dir && mkdir /data/dir && echo x > /data/dir/x`])
    const insp = JSON.parse(await ok(['inspect', 'k1']))[0]
    expect(insp.GraphDriver.Name).toBe('overlay')
    expect(insp.Driver).toBe('overlay')
    const diff = (await ok(['diff', 'k1'])).split('\n')
    expect(diff).toContain('A /data/new.txt')
    expect(diff).toContain(`D ${M.keep.path}`)
    expect(diff).toContain('A /data/dir/x')

    // cp from and into the stopped container (cp mounts its rootfs with its own driver)
    const host = join(t.home, 'cp')
    mkdirSync(host, {recursive: true})
    await ok(['cp', 'k1:/data/new.txt', join(host, 'new.txt')])
    expect(readFileSync(join(host, 'new.txt'), 'utf8')).toBe('hello\n')
    writeFileSync(join(host, 'in.txt'), 'into k1\n')
    await ok(['cp', join(host, 'in.txt'), 'k1:/data/in.txt'])

    // export: the merged tree, the deletions applied
    await ok(['export', '-o', join(host, 'k1.tar'), 'k1'])
    const listing = execFileSync('tar', ['-tf', join(host, 'k1.tar')]).toString().split('\n')
    expect(listing).toContain('data/new.txt')
    expect(listing).toContain('data/dir/x')
    expect(listing).not.toContain(M.keep.path.slice(1))
    expect(listing.filter((l) => l.startsWith('data/dir/') && l !== 'data/dir/')).toEqual(['data/dir/x'])

    // commit, then run the committed image with the default driver
    await ok(['commit', 'k1', 'local/kernel-commit:1'])
    const check = await ok(['run', '--rm', '--network', 'none', 'local/kernel-commit:1', 'sh', '-c', `cat /data/new.txt /data/in.txt; test -e ${M.keep.path} && echo present || echo absent; ls /data/dir`], t.env)
    expect(check).toBe('hello\ninto k1\nabsent\nx\n')

    // cp into a running one
    await ok(['run', '-d', '--name', 'k2', '--network', 'none', ml.ref, 'sleep', '60'])
    await ok(['cp', join(host, 'in.txt'), 'k2:/tmp/in.txt'])
    expect(await ok(['exec', 'k2', 'cat', '/tmp/in.txt'])).toBe('into k1\n')
    await ok(['rm', '-f', 'k1', 'k2'])
    await ok(['rmi', 'local/kernel-commit:1'])
    const after = footprint(t.root, t.runRoot)
    expect(after.processes).toEqual([])
    expect(after.mounts).toEqual([])
    expect(after.fds).toEqual([])
    for (const [dir, names] of Object.entries(after.dirs)) expect(names, dir).toEqual(before.dirs[dir] ?? [])
  }, 240_000)

  it('an empty volume is seeded from the image as the kernel overlay shows it (opaque dir applied), also for a one-layer image', async () => {
    const out = await ok(['run', '--rm', '--network', 'none', '-v', 'kseed:/data/dir', ml.ref, 'ls', '/data/dir'])
    expect(out).toBe('new\n')
    expect(await ok(['run', '--rm', '--network', 'none', '-v', 'kseed:/v', ml.ref, 'cat', '/v/new'])).toBe(M.dirNew.content)
    // a one-layer image (one lower directory: a read-only bind mount, not an overlay)
    const bb = env.fixtures.busybox!.ref
    await ok(['pull', '-q', bb])
    expect(await ok(['run', '--rm', '--network', 'none', '-v', 'kseed2:/etc', bb, 'grep', '-c', '^root:', '/etc/passwd'])).toBe('1\n')
    await ok(['rmi', bb])
    await ok(['volume', 'rm', 'kseed', 'kseed2'])
  }, 120_000)

  it('a container whose shim was killed (SIGKILL) is removed cleanly: no mount, process or file left', async () => {
    const before = footprint(t.root, t.runRoot)
    await ok(['run', '-d', '--name', 'k3', '--network', 'none', ml.ref, 'sh', '-c', 'echo data > /data/w; sleep 600'])
    const shimPid = JSON.parse(await ok(['inspect', 'k3']))[0].State.ShimPid as number
    expect(shimPid).toBeGreaterThan(0)
    process.kill(shimPid, 'SIGKILL')
    await ok(['rm', '-f', 'k3'])
    const after = footprint(t.root, t.runRoot)
    expect(after.processes).toEqual([])
    expect(after.mounts).toEqual([])
    expect(after.fds).toEqual([])
    for (const [dir, names] of Object.entries(after.dirs)) expect(names, dir).toEqual(before.dirs[dir] ?? [])
  }, 120_000)

  it('when the kernel refuses the mount, run says why in one line (exit 125) and --rm leaves nothing', async () => {
    // a kernel form whose above/ is not a directory: the kernel refuses that lower directory
    const form = join(t.root, 'layers', `${ml.diffIds.at(-1)!.slice('sha256:'.length)}.kernel`)
    const saved = join(t.root, 'saved-form')
    execFileSync('mv', [form, saved])
    mkdirSync(form)
    writeFileSync(join(form, 'above'), '')
    try {
      const before = footprint(t.root, t.runRoot)
      const r = await ctr(['run', '--rm', '--network', 'none', ml.ref, 'true'], {env: kernel(), timeoutMs: 60_000})
      expect(r.exitCode).toBe(125)
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
      expect(r.stderr).toMatch(/kernel overlayfs refused lowerdir\+: .*above is not a directory/)
      const after = footprint(t.root, t.runRoot)
      expect(after.processes).toEqual([])
      expect(after.mounts).toEqual([])
      for (const [dir, names] of Object.entries(after.dirs)) expect(names, dir).toEqual(before.dirs[dir] ?? [])
    } finally {
      await removeTree(form)
      execFileSync('mv', [saved, form])
    }
  }, 120_000)

  it('build runs its RUN steps on the kernel driver: the image has the same tree as one built with fuse-overlayfs', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-build-kernel-'))
    try {
      cpSync(join(REPO_ROOT, 'test', 'fixtures', 'build'), dir, {recursive: true})
      const args = (tag: string) => ['build', '--no-cache', '--build-arg', `BASE=${ml.ref}`, '--build-arg', 'GREETING=hi', '-t', tag, dir]
      await ok(args('built/fuse:1'), t.env)
      await ok(args('built/kernel:1'))
      const tree = 'cd / && find opt/app etc/app data/dir home/app/made-by | sort | while read f; do stat -c "%n %u:%g %a %F" "$f"; done; echo $(ls /data)'
      const fuse = await ok(['run', '--rm', '--network', 'none', 'built/fuse:1', 'sh', '-c', tree], t.env)
      const kern = await ok(['run', '--rm', '--network', 'none', 'built/kernel:1', 'sh', '-c', tree], t.env)
      expect(fuse).toContain('data/dir/only 0:0 644 regular file')
      expect(kern).toBe(fuse)
      await ok(['rmi', 'built/fuse:1', 'built/kernel:1'])
    } finally {
      await removeTree(dir)
    }
  }, 480_000)

  it('the kernel forms go with their layers (rmi), and system check removes one whose layer is gone', async () => {
    expect(kernelForms().length).toBeGreaterThan(0)
    const orphan = join(t.root, 'layers', `${'0'.repeat(64)}.kernel`)
    mkdirSync(join(orphan, 'above'), {recursive: true})
    const check = await ctr(['system', 'check', '--store', '--repair'], {env: kernel()})
    expect(check.stdout).toMatch(/kernel overlay form of a layer that is gone/)
    expect(existsSync(orphan)).toBe(false)
    await ok(['rmi', ml.ref])
    expect(kernelForms()).toEqual([])
    expect(readdirSync(join(t.root, 'layers')).filter((n) => !n.startsWith('.'))).toEqual([])
  }, 120_000)
})
