/**
 * The generated OCI spec is accepted by the real runc, rootless: as the unprivileged test user,
 * inside `unshare --map-auto --map-root-user --mount` (the same kind of user namespace ctr-ts's
 * helper creates: uid 0 → the user, 1..65535 → the subuid range), over a plain busybox rootfs
 * directory. No fuse-overlayfs, no ctr-ts binary: this tests src/spec against runc.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import {chmodSync, chownSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import type {ImageConfig} from '../../src/oci/types.js'
import {generateSpec, readNofileLimit, type SpecInput} from '../../src/spec/generate.js'
import {removeTree} from '../harness/cli.js'

/** The unprivileged user the test runs runc as when vitest itself runs as root. */
const TEST_USER = process.env.CTR_TS_TEST_USER ?? 'ctrdev'
const RUNC = '/usr/sbin/runc'
const BUSYBOX = '/bin/busybox'
const TINI = '/usr/bin/tini-static'
const APPLETS = ['sh', 'id', 'cat', 'ls', 'touch', 'echo', 'hostname', 'grep', 'mount', 'sleep', 'ps', 'head', 'tr', 'wc']

const asRoot = process.getuid?.() === 0
let owner: {uid: number; gid: number} = {uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0}

/** argv prefixed so it runs as the unprivileged test user. */
function asUser(argv: string[]): string[] {
  return asRoot ? ['runuser', '-u', TEST_USER, '--', ...argv] : argv
}

function sh(argv: string[]): {code: number; stdout: string; stderr: string} {
  const [cmd, ...args] = asUser(argv)
  const r = spawnSync(cmd!, args, {encoding: 'utf8', timeout: 30_000, cwd: '/'})
  return {code: r.status ?? 128, stdout: r.stdout ?? '', stderr: (r.stderr ?? '') + (r.error ? String(r.error) : '')}
}

let base: string
let runcRoot: string
let rootfs: string
let nofile: {soft: number; hard: number}
let n = 0

const image: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {Env: ['PATH=/bin'], Cmd: ['sh']},
  rootfs: {type: 'layers', diff_ids: []},
}

function own(path: string): void {
  if (asRoot) chownSync(path, owner.uid, owner.gid)
}

/** Writes a bundle for `over` and runs it with runc as the test user; returns runc's result. */
function runContainer(over: Partial<SpecInput>): {code: number; stdout: string; stderr: string; spec: ReturnType<typeof generateSpec>} {
  const id = `spec-e2e-${process.pid}-${n++}`
  const bundle = join(base, id)
  mkdirSync(bundle)
  own(bundle)
  const spec = generateSpec({
    image,
    rootfsPath: rootfs,
    containerId: id.padEnd(64, '0'),
    tty: false,
    stdin: false,
    readOnly: false,
    network: 'none',
    nofile,
    ...over,
  })
  writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec, null, 2))
  own(join(bundle, 'config.json'))
  const r = sh(['unshare', '--map-auto', '--map-root-user', '--mount', RUNC, '--root', runcRoot, 'run', '--bundle', bundle, id])
  return {...r, spec}
}

function expectOk(r: {code: number; stdout: string; stderr: string}): void {
  if (r.code !== 0) throw new Error(`runc exited ${r.code}\nstdout: ${r.stdout}\nstderr: ${r.stderr}`)
}

beforeAll(() => {
  // Prerequisites: fail clearly rather than skip.
  for (const bin of [RUNC, BUSYBOX, TINI, '/usr/bin/unshare', '/usr/bin/newuidmap', '/usr/bin/newgidmap']) {
    if (!existsSync(bin)) throw new Error(`prerequisite missing: ${bin}`)
  }
  if (asRoot) {
    const id = spawnSync('id', ['-u', TEST_USER], {encoding: 'utf8'})
    if (id.status !== 0) throw new Error(`test user ${TEST_USER} does not exist (set CTR_TS_TEST_USER or create it)`)
    const gid = spawnSync('id', ['-g', TEST_USER], {encoding: 'utf8'})
    owner = {uid: Number(id.stdout.trim()), gid: Number(gid.stdout.trim())}
  }
  const name = asRoot ? TEST_USER : (spawnSync('id', ['-un'], {encoding: 'utf8'}).stdout.trim() || String(owner.uid))
  for (const f of ['/etc/subuid', '/etc/subgid']) {
    const text = existsSync(f) ? readFileSync(f, 'utf8') : ''
    if (!text.split('\n').some((l) => l.startsWith(`${name}:`) || l.startsWith(`${owner.uid}:`))) {
      throw new Error(`${f} has no range for ${name}: add one (e.g. usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${name})`)
    }
  }
  const probe = sh(['unshare', '--map-auto', '--map-root-user', '--mount', 'cat', '/proc/self/uid_map'])
  if (probe.code !== 0) throw new Error(`cannot create a user namespace as ${name}: ${probe.stderr}`)
  // The container may not raise RLIMIT_NOFILE above the user's hard limit: read the user's.
  nofile = readNofileLimit(sh(['cat', '/proc/self/limits']).stdout)

  base = mkdtempSync(join(tmpdir(), 'ctr-ts-spec-e2e-'))
  chmodSync(base, 0o755)
  own(base)
  runcRoot = join(base, 'runc')
  mkdirSync(runcRoot, {mode: 0o700})
  own(runcRoot)
  rootfs = join(base, 'rootfs')
  for (const d of ['', 'bin', 'etc', 'tmp', 'proc', 'sys', 'dev', 'data']) {
    mkdirSync(join(rootfs, d), {recursive: true})
    own(join(rootfs, d))
  }
  chmodSync(join(rootfs, 'tmp'), 0o1777)
  copyFileSync(BUSYBOX, join(rootfs, 'bin', 'busybox'))
  chmodSync(join(rootfs, 'bin', 'busybox'), 0o755)
  own(join(rootfs, 'bin', 'busybox'))
  for (const a of APPLETS) symlinkSync('busybox', join(rootfs, 'bin', a))
  if (asRoot) execFileSync('chown', ['-hR', `${owner.uid}:${owner.gid}`, rootfs])
})

afterAll(async () => {
  if (base) await removeTree(base)
})

describe('generated spec under real runc, rootless', () => {
  it('network none: runs as uid 0 in a new network namespace with only lo', () => {
    const r = runContainer({args: ['sh', '-c', 'id; ls /sys/class/net; hostname; echo "$HOSTNAME"']})
    expectOk(r)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^uid=0 gid=0/)
    expect(lines[1]).toBe('lo')
    expect(lines[2]).toBe(r.spec.hostname)
    expect(lines[3]).toBe(r.spec.hostname)
  })

  it('network host: sees the host interfaces (and /sys through a read-only bind)', () => {
    const r = runContainer({network: 'host', args: ['sh', '-c', 'id; ls /sys/class/net; touch /sys/x 2>&1 || echo sys-ro']})
    expectOk(r)
    expect(r.stdout).toMatch(/^uid=0 gid=0/)
    const hostIfaces = readdirSync('/sys/class/net').sort()
    for (const i of hostIfaces) expect(r.stdout).toContain(`${i}\n`)
    expect(r.stdout).toContain('sys-ro')
  })

  it('slirp4netns mode has the same shape as none (its own network namespace)', () => {
    const r = runContainer({network: 'slirp4netns', args: ['ls', '/sys/class/net']})
    expectOk(r)
    expect(r.stdout.trim()).toBe('lo')
  })

  it('--read-only: the root is read-only, /dev/shm and --tmpfs stay writable', () => {
    const r = runContainer({
      readOnly: true,
      tmpfs: ['/scratch'],
      args: ['sh', '-c', 'touch /newfile 2>/dev/null && echo root-rw || echo root-ro; touch /dev/shm/a && echo shm-rw; touch /scratch/a && echo tmpfs-rw'],
    })
    expectOk(r)
    expect(r.stdout.trim().split('\n')).toEqual(['root-ro', 'shm-rw', 'tmpfs-rw'])
    expect(existsSync(join(rootfs, 'newfile'))).toBe(false)
  })

  it('-v bind mounts, read-write and read-only', () => {
    const host = join(base, 'hostdir')
    mkdirSync(host)
    writeFileSync(join(host, 'hello.txt'), 'from the host\n')
    own(host)
    own(join(host, 'hello.txt'))
    const r = runContainer({
      mounts: [`${host}:/data`, `${host}:/data-ro:ro`],
      args: ['sh', '-c', 'cat /data/hello.txt; echo written > /data/out.txt && echo rw-ok; touch /data-ro/x 2>/dev/null && echo ro-broken || echo ro-ok'],
    })
    expectOk(r)
    expect(r.stdout.split('\n').slice(0, 3)).toEqual(['from the host', 'rw-ok', 'ro-ok'])
    expect(readFileSync(join(host, 'out.txt'), 'utf8')).toBe('written\n')
  })

  it('--init: tini is pid 1 and runs the command', () => {
    const r = runContainer({init: {hostPath: TINI}, args: ['sh', '-c', 'echo pid=$$; tr "\\0" " " < /proc/1/cmdline']})
    expectOk(r)
    expect(r.stdout).toMatch(/pid=\d+/)
    expect(r.stdout).not.toContain('pid=1\n')
    expect(r.stdout).toContain('/dev/init -- sh -c')
    expect(r.spec.process.args.slice(0, 2)).toEqual(['/dev/init', '--'])
  })

  it('-u with a non-root uid/gid (mapped through the subuid range), env and cwd', () => {
    const r = runContainer({
      user: {uid: 1000, gid: 1000, additionalGids: [5], home: '/tmp'},
      workdir: '/tmp',
      env: ['GREETING=hi'],
      args: ['sh', '-c', 'id; pwd; echo "$GREETING $HOME"'],
    })
    expectOk(r)
    const lines = r.stdout.trim().split('\n')
    expect(lines[0]).toMatch(/^uid=1000 gid=1000 groups=(5|5,1000|1000,5)?/)
    expect(lines[1]).toBe('/tmp')
    expect(lines[2]).toBe('hi /tmp')
  })

  it('masked and read-only paths, capabilities, etc files', () => {
    const etc = join(base, 'etcfiles')
    mkdirSync(etc)
    writeFileSync(join(etc, 'hosts'), '127.0.0.1\tlocalhost\n10.9.8.7\tspec-e2e\n')
    writeFileSync(join(etc, 'hostname'), 'spec-e2e\n')
    writeFileSync(join(etc, 'resolv.conf'), 'nameserver 10.0.2.3\n')
    for (const f of ['', 'hosts', 'hostname', 'resolv.conf']) own(join(etc, f))
    const r = runContainer({
      capDrop: ['ALL'],
      capAdd: ['CHOWN'],
      etcFiles: {hosts: join(etc, 'hosts'), hostname: join(etc, 'hostname'), resolvConf: join(etc, 'resolv.conf')},
      args: [
        'sh',
        '-c',
        'wc -c < /proc/interrupts; ls /sys/firmware | wc -l; echo 1 > /proc/sys/kernel/domainname 2>/dev/null && echo sys-rw || echo sys-ro; grep CapEff /proc/self/status; cat /etc/hosts /etc/resolv.conf',
      ],
    })
    expectOk(r)
    const lines = r.stdout.trim().split('\n')
    expect(readFileSync('/proc/interrupts', 'utf8').length).toBeGreaterThan(0)
    expect(lines[0]!.trim()).toBe('0') // masked /proc/interrupts reads empty
    expect(lines[1]!.trim()).toBe('0') // masked /sys/firmware is an empty tmpfs
    expect(lines[2]).toBe('sys-ro')
    expect(lines[3]).toMatch(/^CapEff:\s+0000000000000001$/)
    expect(r.stdout).toContain('10.9.8.7\tspec-e2e')
    expect(r.stdout).toContain('nameserver 10.0.2.3')
  })
})
