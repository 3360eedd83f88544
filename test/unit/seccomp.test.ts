import {mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterAll, describe, expect, it} from 'vitest'
import {PrerequisiteError, UsageError} from '../../src/errors.js'
import {DEFAULT_CAPABILITIES} from '../../src/spec/generate.js'
import {
  applyDockerGates,
  checkProfile,
  goArch,
  kernelVersion,
  parseSecurityOpts,
  profileToOci,
  readProfile,
  resolveSeccomp,
  seccompFor,
  type SeccompProfile,
} from '../../src/spec/seccomp.js'

const dir = mkdtempSync(join(tmpdir(), 'seccomp-test-'))
afterAll(() => rmSync(dir, {recursive: true, force: true}))

const profile: SeccompProfile = {
  defaultAction: 'SCMP_ACT_ERRNO',
  defaultErrnoRet: 38,
  archMap: [
    {architecture: 'SCMP_ARCH_X86_64', subArchitectures: ['SCMP_ARCH_X86', 'SCMP_ARCH_X32']},
    {architecture: 'SCMP_ARCH_AARCH64', subArchitectures: ['SCMP_ARCH_ARM']},
  ],
  syscalls: [
    {names: ['read', 'write', 'clone', 'clone3', 'unshare', 'mount', 'keyctl', 'setns', 'syslog', 'reboot'], action: 'SCMP_ACT_ALLOW'},
    {names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{index: 0, value: 8, op: 'SCMP_CMP_EQ'}]},
    {names: ['arch_prctl'], action: 'SCMP_ACT_ALLOW', includes: {arches: ['amd64', 'x32']}},
    {names: ['ptrace'], action: 'SCMP_ACT_ALLOW', includes: {minKernel: '4.8'}},
    {names: ['bpf'], action: 'SCMP_ACT_ALLOW', includes: {caps: ['CAP_SYS_ADMIN']}},
    {names: ['bpf'], action: 'SCMP_ACT_ERRNO', errnoRet: 1, excludes: {caps: ['CAP_SYS_ADMIN']}},
    {names: ['s390_only'], action: 'SCMP_ACT_ALLOW', excludes: {arches: ['amd64', 'arm64']}},
    {names: ['old_kernel_only'], action: 'SCMP_ACT_ALLOW', excludes: {minKernel: '5.0'}},
  ],
}
const amd64 = {capabilities: DEFAULT_CAPABILITIES, arch: 'amd64', kernel: [6, 1] as [number, number]}
const names = (s: {syscalls: Array<{names: string[]; action: string}>}, action = 'SCMP_ACT_ALLOW') =>
  s.syscalls.filter((r) => r.action === action).flatMap((r) => r.names)

describe('profileToOci (docker\'s conversion)', () => {
  it('takes the native architecture and its sub-architectures from archMap', () => {
    expect(profileToOci(profile, amd64).architectures).toEqual(['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'])
    expect(profileToOci(profile, {...amd64, arch: 'arm64'}).architectures).toEqual(['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'])
    expect(profileToOci(profile, amd64).defaultErrnoRet).toBe(38)
  })
  it('keeps rules by architecture, capability and kernel, like docker', () => {
    const oci = profileToOci(profile, amd64)
    expect(names(oci)).toContain('arch_prctl')
    expect(names(oci)).toContain('ptrace')
    expect(names(oci)).not.toContain('bpf')
    expect(names(oci, 'SCMP_ACT_ERRNO')).toEqual(['bpf'])
    expect(names(oci)).not.toContain('s390_only')
    expect(names(oci)).not.toContain('old_kernel_only')
    expect(names(profileToOci(profile, {...amd64, arch: 'arm64'}))).not.toContain('arch_prctl')
    expect(names(profileToOci(profile, {...amd64, kernel: [4, 4]}))).toContain('old_kernel_only')
    expect(names(profileToOci(profile, {...amd64, kernel: [4, 4]}))).not.toContain('ptrace')
    const admin = profileToOci(profile, {...amd64, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN']})
    expect(names(admin)).toContain('bpf')
    expect(names(admin, 'SCMP_ACT_ERRNO')).toEqual([])
    expect(oci.syscalls.find((r) => r.names[0] === 'personality')?.args).toEqual([{index: 0, value: 8, op: 'SCMP_CMP_EQ'}])
  })
})

describe('applyDockerGates (containers-common made docker-equivalent)', () => {
  it('refuses with EPERM what docker allows only with a capability, or never', () => {
    const oci = applyDockerGates(profileToOci(profile, amd64), amd64)
    const unconditional = names({syscalls: oci.syscalls.filter((r) => !('args' in r))})
    for (const n of ['unshare', 'mount', 'keyctl', 'setns', 'syslog', 'reboot', 'clone', 'clone3']) expect(unconditional).not.toContain(n)
    const eperm = oci.syscalls.find((r) => r.action === 'SCMP_ACT_ERRNO' && r.names.includes('unshare'))
    expect(eperm?.errnoRet).toBe(1)
    expect(eperm?.names).toEqual(expect.arrayContaining(['keyctl', 'mount', 'reboot', 'setns', 'syslog']))
    // clone without namespace flags only; clone3 ENOSYS so libc falls back to clone.
    expect(oci.syscalls).toContainEqual({names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{index: 0, value: 0x7e020000, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ'}]})
    expect(oci.syscalls).toContainEqual({names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38})
    expect(names(oci)).toEqual(expect.arrayContaining(['read', 'write', 'personality']))
    // A name is never both allowed and refused without arguments (runc would fail to load it).
    const plain = oci.syscalls.filter((r) => !('args' in r))
    const allowed = new Set(plain.filter((r) => r.action === 'SCMP_ACT_ALLOW').flatMap((r) => r.names))
    for (const r of plain.filter((r) => r.action !== 'SCMP_ACT_ALLOW')) for (const n of r.names) expect(allowed.has(n), n).toBe(false)
  })
  it('opens them with the capability, as docker does', () => {
    const target = {...amd64, capabilities: [...DEFAULT_CAPABILITIES, 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT']}
    const oci = applyDockerGates(profileToOci(profile, target), target)
    expect(names(oci)).toEqual(expect.arrayContaining(['unshare', 'mount', 'setns', 'syslog', 'reboot', 'clone', 'clone3']))
    expect(names(oci)).not.toContain('keyctl')
    expect(oci.syscalls.some((r) => r.names.includes('clone') && r.args)).toBe(false)
  })
  it('uses the second argument of clone on s390x', () => {
    const oci = applyDockerGates(profileToOci(profile, {...amd64, arch: 's390x'}), {...amd64, arch: 's390x'})
    expect(oci.syscalls.find((r) => r.names[0] === 'clone' && r.args)?.args?.[0]?.index).toBe(1)
  })
})

describe('the installed default profile', () => {
  it('converts for this machine when installed', () => {
    let choice
    try {
      choice = resolveSeccomp('default')
    } catch (err) {
      expect(err).toBeInstanceOf(PrerequisiteError)
      return
    }
    if (choice.profile === 'unconfined') throw new Error('unexpected')
    const target = {capabilities: DEFAULT_CAPABILITIES, arch: goArch(), kernel: kernelVersion()}
    const oci = applyDockerGates(profileToOci(readProfile(choice.file), target), target)
    expect(oci.architectures?.length).toBeGreaterThan(0)
    expect(names(oci)).toContain('read')
    expect(names(oci)).not.toContain('unshare')
    expect(names(oci)).not.toContain('keyctl')
  })
  it('is a clear prerequisite error when missing', () => {
    expect(() => resolveSeccomp(undefined, '/', [join(dir, 'none.json')])).toThrow(/no default seccomp profile .*apt-get install golang-github-containers-common.*seccomp=unconfined/)
  })
})

describe('options and profile files', () => {
  it('parses --security-opt like docker', () => {
    expect(parseSecurityOpts([])).toEqual({})
    expect(parseSecurityOpts(['seccomp=unconfined', 'no-new-privileges'])).toEqual({seccomp: 'unconfined', noNewPrivileges: true})
    expect(parseSecurityOpts(['seccomp:/x.json', 'no-new-privileges:false'])).toEqual({seccomp: '/x.json', noNewPrivileges: false})
    expect(parseSecurityOpts(['label=disable', 'apparmor=unconfined'])).toEqual({})
    expect(parseSecurityOpts(['systempaths=unconfined'])).toEqual({unmaskSystemPaths: true})
    expect(() => parseSecurityOpts(['label=type:x_t'])).toThrow(/SELinux labels/)
    expect(() => parseSecurityOpts(['apparmor=docker-default'])).toThrow(/AppArmor/)
    expect(() => parseSecurityOpts(['mask=/proc/x'])).toThrow(UsageError)
    expect(() => parseSecurityOpts(['seccomp='])).toThrow(UsageError)
    expect(() => parseSecurityOpts(['no-new-privileges=yes'])).toThrow(/takes true or false/)
  })
  it('resolves unconfined and FILE (relative to the working directory), checking the file', () => {
    expect(resolveSeccomp('unconfined')).toEqual({profile: 'unconfined'})
    writeFileSync(join(dir, 'p.json'), JSON.stringify({defaultAction: 'SCMP_ACT_ALLOW'}))
    expect(resolveSeccomp('p.json', dir)).toEqual({profile: 'file', file: join(dir, 'p.json')})
    writeFileSync(join(dir, 'bad.json'), '{')
    expect(() => resolveSeccomp(join(dir, 'bad.json'))).toThrow(new UsageError(`seccomp profile ${join(dir, 'bad.json')}: not valid JSON`))
  })
  it('names the wrong field of a profile', () => {
    expect(() => checkProfile([], 'p')).toThrow(new UsageError('p: the document must be a JSON object'))
    expect(() => checkProfile({defaultAction: 'ALLOW'}, 'p')).toThrow(/p: \.defaultAction must be a seccomp action/)
    expect(() => checkProfile({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: 'read', action: 'SCMP_ACT_ALLOW'}]}, 'p')).toThrow(/\.syscalls\[0\]\.names must be a list of strings/)
    expect(() => checkProfile({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['read'], action: 'SCMP_ACT_ALLOW', args: [{index: 0, value: 1, op: 'EQ'}]}]}, 'p')).toThrow(/\.syscalls\[0\]\.args\[0\] must be/)
    expect(() => checkProfile({defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{names: ['read'], action: 'SCMP_ACT_ALLOW', includes: {minKernel: 4}}]}, 'p')).toThrow(/includes\.minKernel must be a kernel version/)
  })
})

describe('seccompFor with a cache directory', () => {
  it('gives what the conversion gives, keeps it, and converts again when the profile file changes', () => {
    const file = join(dir, 'cached.json')
    writeFileSync(file, JSON.stringify(profile))
    const cache = join(dir, 'cache')
    const caps = ['CAP_CHOWN']
    const plain = seccompFor({profile: 'file', file}, caps, 'amd64', '6.1.0')
    const first = seccompFor({profile: 'file', file}, caps, 'amd64', '6.1.0', cache)
    expect(first).toEqual(plain)
    expect(readdirSync(cache)).toHaveLength(1)
    // the same answer from the cache; other capabilities are another entry
    expect(seccompFor({profile: 'file', file}, caps, 'amd64', '6.1.0', cache)).toEqual(plain)
    seccompFor({profile: 'file', file}, ['CAP_SYS_ADMIN'], 'amd64', '6.1.0', cache)
    expect(readdirSync(cache)).toHaveLength(2)
    // an edited profile is converted anew
    writeFileSync(file, JSON.stringify({...profile, defaultErrnoRet: 1}))
    utimesSync(file, new Date(), new Date(Date.now() + 5000))
    expect(seccompFor({profile: 'file', file}, caps, 'amd64', '6.1.0', cache)?.defaultErrnoRet).toBe(1)
    // a cache directory that cannot be made is no cache
    expect(seccompFor({profile: 'file', file}, caps, 'amd64', '6.1.0', join(file, 'not-a-dir'))?.defaultErrnoRet).toBe(1)
  })
})
