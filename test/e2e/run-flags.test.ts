/**
 * docker's run/create flags end to end, through the real binary as the unprivileged user:
 * --add-host, --dns*, --security-opt, --ulimit, --shm-size, --mount, --device, --pid/--ipc/--uts,
 * --sysctl, --group-add, --stop-signal/--stop-timeout, --label-file, --cidfile, --pull, -a,
 * --privileged, --init-path, and the flags that make no sense rootless.
 */
import {chmodSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let img: string
fileRootWithImage('busybox', (root, ref) => {
  t = root
  img = ref
})
const env = () => t.env

/** A scratch directory the test user can read and write. */
function scratch(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ctr-flags-'))
  chmodSync(dir, 0o777)
  return dir
}

async function runOut(args: string[]): Promise<{exitCode: number; stdout: string; stderr: string}> {
  return ctr(['run', '--rm', ...args], {env: env(), timeoutMs: 60_000})
}

describe('run flags: /etc/hosts and resolv.conf', () => {
  it('--add-host adds lines, host-gateway is the host as slirp4netns sees it', async () => {
    const r = await runOut(['--add-host', 'db:10.1.2.3', '--add-host', 'host.docker.internal:host-gateway', img, 'cat', '/etc/hosts'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toMatch(/^10\.1\.2\.3\tdb$/m)
    expect(r.stdout).toMatch(/^10\.0\.2\.2\thost\.docker\.internal$/m)
    expect(r.exitCode).toBe(0)
    const bad = await runOut(['--add-host', 'db', img, 'true'])
    expect(bad.exitCode).toBe(125)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)
    expect(bad.stderr).toMatch(/--add-host/)
  })

  it('--dns, --dns-search and --dns-option replace their parts of resolv.conf', async () => {
    const r = await runOut(['--dns', '9.9.9.9', '--dns-search', 'example.test', '--dns-option', 'ndots:2', img, 'cat', '/etc/resolv.conf'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('nameserver 9.9.9.9\nsearch example.test\noptions ndots:2\n')
    const hostNet = await runOut(['--network', 'host', '--dns', '9.9.9.9', img, 'true'])
    expect(hostNet.exitCode).toBe(125)
    expect(hostNet.stderr).toMatch(/conflicting options/)
    const bad = await runOut(['--dns', 'not-an-ip', img, 'true'])
    expect(bad.exitCode).toBe(125)
    expect(bad.stderr).toMatch(/--dns/)
  })
})

describe('run flags: security and limits', () => {
  it('--security-opt accepts apparmor=unconfined and label=disable, refuses others in one line', async () => {
    const ok = await runOut(['--security-opt', 'apparmor=unconfined', '--security-opt', 'label=disable', img, 'true'])
    expect(ok.stderr).toBe('')
    expect(ok.exitCode).toBe(0)
    for (const opt of ['apparmor=docker-default', 'label=type:foo_t', 'bogus=1']) {
      const bad = await runOut(['--security-opt', opt, img, 'true'])
      expect(bad.exitCode).toBe(125)
      expect(bad.stderr.trim().split('\n')).toHaveLength(1)
      expect(bad.stderr).toContain(opt)
    }
  })

  it('--ulimit sets soft and hard limits', async () => {
    const r = await runOut(['--ulimit', 'nofile=512:1024', '--ulimit', 'nproc=900', img, 'sh', '-c', 'ulimit -Sn; ulimit -Hn; ulimit -u'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('512\n1024\n900\n')
    const bad = await runOut(['--ulimit', 'nofile=20:10', img, 'true'])
    expect(bad.exitCode).toBe(125)
    expect(bad.stderr).toMatch(/soft limit/)
  })

  it('--shm-size sizes /dev/shm', async () => {
    const r = await runOut(['--shm-size', '32m', img, 'sh', '-c', "df -k /dev/shm | tail -1 | awk '{print $2}'"])
    expect(r.stderr).toBe('')
    expect(r.stdout.trim()).toBe('32768')
  })

  it('--sysctl sets namespaced ones and refuses the others and net.* with the host network', async () => {
    const r = await runOut(['--sysctl', 'net.ipv4.ip_unprivileged_port_start=0', '--sysctl', 'kernel.shmmni=1000', img, 'sh', '-c', 'cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('0\n1000\n')
    const host = await runOut(['--network', 'host', '--sysctl', 'net.ipv4.ip_forward=1', img, 'true'])
    expect(host.exitCode).toBe(125)
    expect(host.stderr).toMatch(/host network/)
    const notNs = await runOut(['--sysctl', 'vm.swappiness=10', img, 'true'])
    expect(notNs.exitCode).toBe(125)
    expect(notNs.stderr).toMatch(/only namespaced sysctls/)
  })

  it('--privileged gives every capability and no masked paths; -u gets its groups; --group-add adds more', async () => {
    const r = await runOut(['--privileged', img, 'sh', '-c', 'grep CapEff /proc/self/status; test -c /dev/fuse && echo fuse; grep -c " /proc/sys " /proc/self/mountinfo || true'])
    expect(r.stderr).toBe('')
    const last = Number(readFileSync('/proc/sys/kernel/cap_last_cap', 'utf8'))
    const full = ((1n << BigInt(last + 1)) - 1n).toString(16).padStart(16, '0')
    expect(r.stdout).toContain(`CapEff:\t${full}`)
    // the host devices this user can open (/dev/fuse, which fuse-overlayfs needs anyway) are there, as with rootless podman
    expect(r.stdout).toContain('fuse\n')
    // /proc/sys is not remounted read-only
    expect(r.stdout.trim().split('\n').at(-1)).toBe('0')
    const plain = await runOut([img, 'grep', 'CapEff', '/proc/self/status'])
    expect(plain.stdout).toContain('CapEff:\t00000000a80425fb')

    const nobody = await runOut(['-u', 'nobody', img, 'id'])
    expect(nobody.stdout.trim()).toBe('uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)')
    const added = await runOut(['-u', 'app', '--group-add', 'daemon', '--group-add', '4242', img, 'id', '-G'])
    expect(added.stderr).toBe('')
    expect(added.stdout.trim()).toBe('1000 1 4242')
    const bad = await runOut(['--group-add', 'nosuchgroup', img, 'true'])
    expect(bad.exitCode).toBe(125)
    expect(bad.stderr).toMatch(/nosuchgroup/)
  })

  it('refuses docker flags that make no sense rootless, each with one line saying why', async () => {
    for (const args of [['--cgroup-parent', 'x'], ['--userns', 'host'], ['--oom-kill-disable'], ['--cpu-rt-runtime', '1000']]) {
      const r = await runOut([...args, img, 'true'])
      expect(r.exitCode).toBe(125)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toContain(`${args[0]} is not supported by ctr-ts:`)
    }
  })
})

describe('run flags: mounts and devices', () => {
  it('--mount type=bind and type=tmpfs in docker\'s long syntax; type=volume is handed to the volume stage', async () => {
    const dir = scratch()
    writeFileSync(join(dir, 'f'), 'from host\n')
    chmodSync(join(dir, 'f'), 0o644)
    const r = await runOut([
      '--mount', `type=bind,source=${dir},target=/data,readonly`,
      '--mount', 'type=tmpfs,destination=/scratch,tmpfs-size=1m',
      img, 'sh', '-c', "cat /data/f; touch /data/x 2>/dev/null || echo ro; df -k /scratch | tail -1 | awk '{print $2}'",
    ])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('from host\nro\n1024\n')
    const missing = await runOut(['--mount', 'type=bind,source=/no/such/dir,target=/x', img, 'true'])
    expect(missing.exitCode).toBe(125)
    expect(missing.stderr).toMatch(/does not exist/)
    const volume = await runOut(['--mount', 'type=volume,source=data,target=/x', img, 'sh', '-c', 'echo kept > /x/f'])
    expect(volume.exitCode, volume.stderr).toBe(0)
    expect((await runOut(['--mount', 'type=volume,src=data,dst=/y,readonly', img, 'cat', '/y/f'])).stdout).toBe('kept\n')
    const unknown = await runOut(['--mount', 'type=bind,source=/tmp,target=/x,bogus=1', img, 'true'])
    expect(unknown.exitCode).toBe(125)
    expect(unknown.stderr).toMatch(/unknown field "bogus"/)
  })

  it('--device binds a device node the user can open, and refuses one it cannot', async () => {
    const r = await runOut(['--device', '/dev/null:/dev/mynull', img, 'sh', '-c', 'test -c /dev/mynull && echo hi > /dev/mynull && echo ok'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('ok\n')
    // a device only root may open (the test runs as an unprivileged user)
    const closed = readdirSync('/dev').map((n) => join('/dev', n)).find((p) => {
      const st = lstatSync(p)
      return st.isCharacterDevice() && st.uid === 0 && (st.mode & 0o006) === 0
    })!
    const denied = await runOut(['--device', closed, img, 'true'])
    expect(denied.exitCode).toBe(125)
    expect(denied.stderr.trim().split('\n')).toHaveLength(1)
    expect(denied.stderr).toMatch(/cannot open/)
  })
})

describe('run flags: namespaces', () => {
  it('--pid host sees the host processes, --uts host the host name, --ipc host the host IPC', async () => {
    const pid = await runOut(['--pid', 'host', img, 'sh', '-c', 'test -d /proc/1 && test "$(cat /proc/1/comm)" != sh && echo host-pid'])
    expect(pid.stderr).toBe('')
    expect(pid.stdout).toBe('host-pid\n')
    const uts = await runOut(['--uts', 'host', img, 'sh', '-c', 'hostname; cat /etc/hostname; echo $HOSTNAME'])
    expect(uts.stderr).toBe('')
    const host = readFileSync('/proc/sys/kernel/hostname', 'utf8').trim()
    expect(uts.stdout).toBe(`${host}\n${host}\n${host}\n`)
    const conflict = await runOut(['--uts', 'host', '--hostname', 'x', img, 'true'])
    expect(conflict.exitCode).toBe(125)
    expect(conflict.stderr).toMatch(/conflicting options/)
    const ipc = await runOut(['--ipc', 'host', img, 'sh', '-c', 'readlink /proc/self/ns/ipc'])
    expect(ipc.stderr).toBe('')
    expect(ipc.stdout.trim()).toBe(readlinkSync('/proc/self/ns/ipc'))
    const bad = await runOut(['--pid', 'bogus', img, 'true'])
    expect(bad.exitCode).toBe(125)
    expect(bad.stderr).toMatch(/--pid/)
  })

  it('--pid and --ipc container:NAME join a running container', async () => {
    const private_ = await ctr(['run', '-d', '--name', 'nsprivate', img, 'sleep', '300'], {env: env()})
    expect(private_.exitCode, private_.stderr).toBe(0)
    const refused = await runOut(['--ipc', 'container:nsprivate', img, 'true'])
    expect(refused.exitCode).toBe(125)
    expect(refused.stderr).toMatch(/non-shareable IPC/)
    await ctr(['rm', '-f', 'nsprivate'], {env: env()})
    const started = await ctr(['run', '-d', '--name', 'nsowner', '--ipc', 'shareable', img, 'sleep', '300'], {env: env()})
    expect(started.exitCode, started.stderr).toBe(0)
    try {
      const r = await runOut(['--pid', 'container:nsowner', '--ipc', 'container:nsowner', img, 'sh', '-c', 'ps -o comm | grep -c sleep; touch /dev/shm/shared'])
      expect(r.stderr).toBe('')
      expect(r.stdout.trim()).toBe('1')
      const seen = await ctr(['exec', 'nsowner', 'ls', '/dev/shm'], {env: env()})
      expect(seen.stdout.trim()).toBe('shared')
    } finally {
      await ctr(['rm', '-f', 'nsowner'], {env: env()})
    }
    const notRunning = await runOut(['--pid', 'container:nsowner', img, 'true'])
    expect(notRunning.exitCode).toBe(125)
  })
})

describe('run flags: lifecycle and bookkeeping', () => {
  it('--stop-signal and --stop-timeout are used by stop, --label-file and --cidfile by create', async () => {
    const dir = scratch()
    const labels = join(dir, 'labels')
    writeFileSync(labels, '# comment\nteam=core\n\nstage=test\n')
    chmodSync(labels, 0o644)
    const cid = join(dir, 'cid')
    const created = await ctr(
      ['create', '--name', 'stopper', '--cidfile', cid, '--label-file', labels, '--stop-signal', 'USR1', '--stop-timeout', '1', img,
        'sh', '-c', 'trap "echo got-usr1" USR1; while :; do sleep 1; done'],
      {env: env()},
    )
    expect(created.exitCode, created.stderr).toBe(0)
    expect(readFileSync(cid, 'utf8')).toBe(created.stdout.trim())
    const again = await ctr(['create', '--cidfile', cid, img, 'true'], {env: env()})
    expect(again.exitCode).toBe(125)
    expect(again.stderr).toMatch(/container ID file found/)
    const insp = await ctr(['inspect', 'stopper'], {env: env()})
    const doc = JSON.parse(insp.stdout)
    const c = Array.isArray(doc) ? doc[0] : doc
    expect(c.Config.Labels).toEqual({team: 'core', stage: 'test'})
    expect(c.Config.StopSignal).toBe('SIGUSR1')
    expect(c.Config.StopTimeout).toBe(1)
    expect((await ctr(['start', 'stopper'], {env: env()})).exitCode).toBe(0)
    await new Promise((r) => setTimeout(r, 500))
    const t0 = Date.now()
    expect((await ctr(['stop', 'stopper'], {env: env()})).exitCode).toBe(0)
    // the trap keeps it alive: stop waited the 1 s stop timeout, not docker's 10
    expect(Date.now() - t0).toBeLessThan(8000)
    const logs = await ctr(['logs', 'stopper'], {env: env()})
    expect(logs.stdout).toContain('got-usr1')
    await ctr(['rm', '-f', 'stopper'], {env: env()})
  })

  it('--pull never refuses a missing image, --pull always pulls again', async () => {
    const never = await runOut(['--pull', 'never', img.replace(/:latest$/, ':nosuchtag'), 'true'])
    expect(never.exitCode).toBe(125)
    expect(never.stderr).toMatch(/--pull never/)
    const always = await runOut(['--pull', 'always', img, 'echo', 'ran'])
    expect(always.stdout).toBe('ran\n')
    expect(always.stderr).not.toMatch(/Unable to find image/)
    expect(always.exitCode).toBe(0)
  })

  it('-a stdout shows only stdout; --init-path picks the init', async () => {
    const r = await runOut(['-a', 'stdout', img, 'sh', '-c', 'echo out; echo err >&2'])
    expect(r.stdout).toBe('out\n')
    expect(r.stderr).toBe('')
    const e = await runOut(['-a', 'stderr', img, 'sh', '-c', 'echo out; echo err >&2'])
    expect(e.stdout).toBe('')
    expect(e.stderr).toBe('err\n')
    const init = ['/usr/bin/tini-static', '/usr/bin/catatonit', '/usr/bin/tini'].find((p) => existsSync(p))!
    const withInit = await runOut(['--init', '--init-path', init, img, 'sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "'])
    expect(withInit.stderr).toBe('')
    expect(withInit.stdout).toMatch(/^\/dev\/init -- sh/)
    const missing = await runOut(['--init', '--init-path', '/no/such/init', img, 'true'])
    expect(missing.exitCode).toBe(125)
  })
})

