/**
 * docker cp end to end through the binary as the unprivileged user: both directions, on running
 * and stopped containers, docker's path rules, tar streams with `-`, `-a` owners through the user
 * namespace, `-L`, and symlinks that must not lead out of the container.
 */
import {execFileSync} from 'node:child_process'
import {existsSync, lstatSync, mkdirSync, readFileSync, readlinkSync, symlinkSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'
import {processesMentioning} from '../harness/proc.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

async function ok(args: string[], input?: string | Buffer): Promise<string> {
  const r = await ctr(args, {env: env(), input: input as string | undefined})
  expect(r.stderr, `ctr-ts ${args.join(' ')}`).toBe('')
  expect(r.exitCode, `ctr-ts ${args.join(' ')}`).toBe(0)
  return r.stdout
}

async function fails(args: string[], message: RegExp): Promise<void> {
  const r = await ctr(args, {env: env()})
  expect(r.exitCode, `ctr-ts ${args.join(' ')}: ${r.stderr}`).not.toBe(0)
  expect(r.stderr.trim().split('\n'), `ctr-ts ${args.join(' ')}`).toHaveLength(1)
  expect(r.stderr).toMatch(message)
}

function hostDir(name: string): string {
  const dir = join(t.home, name)
  mkdirSync(dir, {recursive: true})
  return dir
}

const sh = (ctrName: string, script: string) => ok(['exec', ctrName, 'sh', '-c', script])

describe.each([
  ['running', true],
  ['stopped', false],
])('cp with a %s container', (state, running) => {
  const name = `cp-${state}`
  const run = async (script: string) => {
    if (running) return sh(name, script)
    // a stopped container: look with a second container started from the same writable layer is not possible: start, look, stop
    await ok(['start', name])
    const out = await sh(name, script)
    await ok(['stop', '-t', '0', name])
    return out
  }

  it('copies a file and a directory out, following docker path rules', async () => {
    await ok(['run', '-d', '--name', name, busybox, 'sh', '-c', 'mkdir -p /srv/d/sub && echo one > /srv/d/a && echo two > /srv/d/sub/b && ln -sf a /srv/d/link && chmod 640 /srv/d/a && sleep 600'])
    await new Promise((r) => setTimeout(r, 500))
    if (!running) await ok(['stop', '-t', '0', name])
    const out = hostDir(`out-${state}`)
    // file into an existing directory, and to a new file name
    await ok(['cp', `${name}:/srv/d/a`, out])
    expect(readFileSync(join(out, 'a'), 'utf8')).toBe('one\n')
    expect(lstatSync(join(out, 'a')).mode & 0o777).toBe(0o640)
    await ok(['cp', `${name}:/srv/d/a`, join(out, 'renamed')])
    expect(readFileSync(join(out, 'renamed'), 'utf8')).toBe('one\n')
    // directory into an existing directory: copied as a subdirectory; to a new name: created
    await ok(['cp', `${name}:/srv/d`, out])
    expect(readFileSync(join(out, 'd', 'sub', 'b'), 'utf8')).toBe('two\n')
    expect(readlinkSync(join(out, 'd', 'link'))).toBe('a')
    await ok(['cp', `${name}:/srv/d`, join(out, 'new')])
    expect(readFileSync(join(out, 'new', 'sub', 'b'), 'utf8')).toBe('two\n')
    // trailing /. : the contents
    const contents = hostDir(`contents-${state}`)
    await ok(['cp', `${name}:/srv/d/.`, contents])
    expect(readFileSync(join(contents, 'a'), 'utf8')).toBe('one\n')
    expect(existsSync(join(contents, 'd'))).toBe(false)
    // a symlink is copied as a link, -L copies its target
    await ok(['cp', `${name}:/srv/d/link`, join(out, 'l1')])
    expect(lstatSync(join(out, 'l1')).isSymbolicLink()).toBe(true)
    await ok(['cp', '-L', `${name}:/srv/d/link`, join(out, 'l2')])
    expect(readFileSync(join(out, 'l2'), 'utf8')).toBe('one\n')
    // errors: one line each
    await fails(['cp', `${name}:/nosuch`, out], /could not find the file \/nosuch/)
    await fails(['cp', `${name}:/srv/d`, join(out, 'a')], /cannot copy a directory to a file/)
    await fails(['cp', `${name}:/srv/d/a`, join(out, 'missing-dir') + '/'], /no such directory/)
    await fails(['cp', `${name}:/srv/d/a`, join(out, 'no', 'parent')], /no such file or directory/)
    // a stopped container's rootfs was mounted for each copy only: no fuse-overlayfs stays behind
    const id = (JSON.parse(await ok(['inspect', name])) as Array<{Id: string}>)[0]!.Id
    if (!running) expect(processesMentioning(join(id, 'merged'))).toEqual([])
  }, 120_000)

  it('copies files in, owned by the container root, or with -a by their owners mapped through the user namespace', async () => {
    const src = hostDir(`in-${state}`)
    writeFileSync(join(src, 'f'), 'host file\n', {mode: 0o604})
    mkdirSync(join(src, 'dir', 'deep'), {recursive: true})
    writeFileSync(join(src, 'dir', 'deep', 'g'), 'deep\n')
    await ok(['cp', join(src, 'f'), `${name}:/srv/`])
    await ok(['cp', join(src, 'dir'), `${name}:/srv/in`])
    await ok(['cp', join(src, 'dir') + '/.', `${name}:/tmp`])
    await ok(['cp', '-a', join(src, 'f'), `${name}:/srv/archived`])
    const out = await run('cat /srv/f /srv/in/deep/g /tmp/deep/g; stat -c "%u:%g %a %n" /srv/f /srv/in/deep/g /srv/archived')
    // the host user is root of the container: -a keeps that owner (0), as the mapping says
    expect(out).toBe('host file\ndeep\ndeep\n0:0 604 /srv/f\n0:0 644 /srv/in/deep/g\n0:0 604 /srv/archived\n')
  }, 120_000)

  it('tar streams with -: out to stdout, in from stdin (with -a the archive owners)', async () => {
    const r = await ctr(['cp', `${name}:/srv/d`, '-'], {env: env()})
    expect(r.exitCode).toBe(0)
    const dir = hostDir(`tar-${state}`)
    writeFileSync(join(dir, 'out.tar'), r.stdout, 'latin1')
    const list = execFileSync('tar', ['-tf', join(dir, 'out.tar')], {encoding: 'utf8'}).trim().split('\n').sort()
    expect(list).toEqual(['d/', 'd/a', 'd/link', 'd/sub/', 'd/sub/b'])
    // a tar with owner 1000:1000 in; -a keeps it, without -a it is root's
    mkdirSync(join(dir, 'src'))
    writeFileSync(join(dir, 'src', 'owned'), 'x\n')
    const tar = execFileSync('tar', ['-c', '--owner=1000', '--group=1000', '-C', join(dir, 'src'), 'owned'])
    const a = await ctr(['cp', '-a', '-', `${name}:/srv`], {env: env(), input: tar as unknown as string})
    expect(a.stderr).toBe('')
    expect(a.exitCode).toBe(0)
    const b = await ctr(['cp', '-', `${name}:/tmp`], {env: env(), input: tar as unknown as string})
    expect(b.exitCode).toBe(0)
    expect(await run('stat -c "%u:%g %n" /srv/owned /tmp/owned')).toBe('1000:1000 /srv/owned\n0:0 /tmp/owned\n')
    await fails(['cp', '-', `${name}:/srv/d/a`], /must be a directory/)
  }, 120_000)

  it('never leaves the container root through symlinks', async () => {
    // links pointing at host paths: resolved inside the container
    await run('ln -s / /srv/up && ln -s ../../../../../../../ /srv/rel && ln -s /etc /srv/etc-link && echo container > /etc/marker')
    const out = hostDir(`esc-${state}`)
    await ok(['cp', `${name}:/srv/up/etc/marker`, join(out, 'm1')])
    expect(readFileSync(join(out, 'm1'), 'utf8')).toBe('container\n')
    await ok(['cp', `${name}:/srv/rel/etc/marker`, join(out, 'm2')])
    expect(readFileSync(join(out, 'm2'), 'utf8')).toBe('container\n')
    // writing through a link lands in the container's /etc, not the host's
    const src = hostDir(`esc-src-${state}`)
    writeFileSync(join(src, 'x-ctr-ts-cp-test'), 'in\n')
    await ok(['cp', join(src, 'x-ctr-ts-cp-test'), `${name}:/srv/etc-link/`])
    await ok(['cp', join(src, 'x-ctr-ts-cp-test'), `${name}:/srv/rel/tmp/`])
    expect(existsSync('/etc/x-ctr-ts-cp-test')).toBe(false)
    expect(await run('cat /etc/x-ctr-ts-cp-test /tmp/x-ctr-ts-cp-test')).toBe('in\nin\n')
    // an archive entry that climbs out is refused
    mkdirSync(join(src, 'evil'), {recursive: true})
    writeFileSync(join(src, 'evil', 'f'), 'evil\n')
    const tar = execFileSync('tar', ['-c', '-P', '-C', src, '--transform', 's,^evil/f,../../../../tmp/ctr-ts-cp-escape,', 'evil/f'])
    const r = await ctr(['cp', '-', `${name}:/srv`], {env: env(), input: tar as unknown as string})
    expect(r.exitCode).not.toBe(0)
    expect(r.stderr).toMatch(/refusing archive entry outside the destination/)
    expect(existsSync('/tmp/ctr-ts-cp-escape')).toBe(false)
    await ok(['rm', '-f', name])
  }, 120_000)
})

describe('cp arguments', () => {
  it('needs exactly one container side', async () => {
    await fails(['cp', '/tmp/a', './b'], /must specify at least one container source/)
    await fails(['cp', 'a:/x', 'b:/y'], /copying between containers is not supported/)
    await fails(['cp', 'nosuch:/x', '/tmp'], /no such container: nosuch/)
  })
})
