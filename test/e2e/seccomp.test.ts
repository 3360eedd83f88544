/**
 * Seccomp and no-new-privileges (issue 17 item 2), through the real binary, runc and the kernel:
 * the default profile (containers-common's, tightened to docker's rules) blocks what docker's
 * blocks, `--security-opt seccomp=unconfined|FILE` and `no-new-privileges` work, a bad profile is
 * one clear line with exit 125, and inspect and system check say what applies.
 */
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {ctr, type TempRoot} from '../harness/cli.js'
import {fileRootWithImage} from '../harness/file-root.js'

let t: TempRoot
let busybox: string
const env = () => t.env

fileRootWithImage('busybox', (root, ref) => {
  t = root
  busybox = ref
})

/** Runs `script` in a throw-away container (no network: faster) and returns its output. */
async function inContainer(script: string, extra: string[] = []) {
  return ctr(['run', '--rm', '--network', 'none', ...extra, busybox, 'sh', '-c', script], {env: env()})
}

const status = 'grep -E "^(Seccomp|NoNewPrivs):" /proc/self/status | tr -s "\\t " " "'
// unshare(CLONE_NEWUSER) needs no capability: only docker's profile refuses it (it wants CAP_SYS_ADMIN).
const tryUnshare = 'unshare -U true 2>&1; echo "rc=$?"'

describe('seccomp', () => {
  it('filters by default, without no-new-privileges (docker\'s defaults)', async () => {
    const r = await inContainer(status)
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('NoNewPrivs: 0\nSeccomp: 2\n')
  })

  it('the default profile refuses unshare with EPERM; unconfined allows it', async () => {
    const blocked = await inContainer(tryUnshare)
    expect(blocked.stdout).toMatch(/Operation not permitted/)
    expect(blocked.stdout).toMatch(/rc=1\n$/)
    const free = await inContainer(`${tryUnshare}; ${status}`, ['--security-opt', 'seccomp=unconfined'])
    expect(free.stdout).toBe('rc=0\nNoNewPrivs: 0\nSeccomp: 0\n')
  })

  it('follows the capabilities like docker: CAP_SYS_ADMIN opens the gated syscalls', async () => {
    const r = await inContainer(tryUnshare, ['--cap-add', 'SYS_ADMIN'])
    expect(r.stdout).toBe('rc=0\n')
  })

  it('applies a docker-format profile FILE', async () => {
    const file = join(t.root, 'no-mkdir.json')
    writeFileSync(
      file,
      JSON.stringify({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['mkdir', 'mkdirat'], action: 'SCMP_ACT_ERRNO', errnoRet: 1}]}),
    )
    const r = await inContainer('mkdir /tmp/x 2>&1; echo "rc=$?"; unshare -U true; echo "unshare=$?"', ['--security-opt', `seccomp=${file}`])
    expect(r.stdout).toMatch(/Operation not permitted\nrc=1\nunshare=0\n$/)
  })

  it('no-new-privileges on request', async () => {
    for (const opt of ['no-new-privileges', 'no-new-privileges=true', 'no-new-privileges:true']) {
      const r = await inContainer(status, ['--security-opt', opt])
      expect(r.stdout).toBe('NoNewPrivs: 1\nSeccomp: 2\n')
    }
  })

  it('refuses a bad profile or option with one clear line, exit 125, and no container', async () => {
    const bad = join(t.root, 'bad.json')
    writeFileSync(bad, '{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "ALLOW_IT"}]}')
    const notJson = join(t.root, 'not.json')
    writeFileSync(notJson, 'defaultAction: allow')
    const cases: Array<[string, RegExp]> = [
      [`seccomp=${bad}`, new RegExp(`^ctr-ts: seccomp profile ${bad}: \\.syscalls\\[0\\]\\.action must be a seccomp action such as SCMP_ACT_ALLOW$`)],
      [`seccomp=${notJson}`, new RegExp(`^ctr-ts: seccomp profile ${notJson}: not valid JSON$`)],
      [`seccomp=${join(t.root, 'missing.json')}`, /^ctr-ts: seccomp profile .*missing\.json: cannot read it \(ENOENT\)$/],
      ['apparmor=docker-default', /^ctr-ts: invalid --security-opt apparmor=docker-default: AppArmor profiles cannot be loaded by a rootless user; only apparmor=unconfined is accepted$/],
      ['bogus', /^ctr-ts: invalid --security-opt bogus: supported are seccomp=unconfined\|FILE, no-new-privileges\[=true\|false\], apparmor=unconfined, label=disable and systempaths=unconfined$/],
      ['no-new-privileges=maybe', /^ctr-ts: invalid --security-opt no-new-privileges=maybe: no-new-privileges takes true or false$/],
    ]
    for (const [opt, line] of cases) {
      const r = await ctr(['run', '--rm', '--security-opt', opt, busybox, 'true'], {env: env()})
      expect(r.exitCode, opt).toBe(125)
      expect(r.stderr.trim().split('\n'), opt).toHaveLength(1)
      expect(r.stderr.trim(), opt).toMatch(line)
    }
    expect((await ctr(['ps', '-a', '-q'], {env: env()})).stdout.trim()).toBe('')
  })

  it('inspect shows the profile and no-new-privileges', async () => {
    const c1 = await ctr(['create', busybox, 'true'], {env: env()})
    const c2 = await ctr(['create', '--security-opt', 'seccomp=unconfined', '--security-opt', 'no-new-privileges', busybox, 'true'], {env: env()})
    const [i1] = JSON.parse((await ctr(['inspect', c1.stdout.trim()], {env: env()})).stdout) as Array<{HostConfig: {SecurityOpt: string[]; Seccomp: {Profile: string; File: string}}}>
    const [i2] = JSON.parse((await ctr(['inspect', c2.stdout.trim()], {env: env()})).stdout) as Array<{HostConfig: {SecurityOpt: string[]; Seccomp: {Profile: string; File: string}}}>
    expect(i1!.HostConfig.SecurityOpt).toEqual(['seccomp=default', 'no-new-privileges=false'])
    expect(i1!.HostConfig.Seccomp.Profile).toBe('default')
    expect(i1!.HostConfig.Seccomp.File).toMatch(/\/containers\/seccomp\.json$/)
    expect(i2!.HostConfig.SecurityOpt).toEqual(['seccomp=unconfined', 'no-new-privileges=true'])
    expect((await ctr(['rm', c1.stdout.trim(), c2.stdout.trim()], {env: env()})).exitCode).toBe(0)
  })

  it('system check reports seccomp support', async () => {
    const r = await ctr(['system', 'check'], {env: env()})
    expect(r.stdout).toMatch(/seccomp.*default profile \/\S+seccomp\.json \(\d+ rules for this machine\), libseccomp \d/)
  })
})
