import {createHash} from 'node:crypto'
import {existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync} from 'node:fs'
import {release} from 'node:os'
import {isAbsolute, join} from 'node:path'
import {PrerequisiteError, UsageError} from '../errors.js'

/**
 * Seccomp for containers, as docker does it: a profile in docker's JSON format (defaultAction,
 * archMap, syscalls with includes/excludes by capability, architecture and kernel) becomes the
 * OCI `linux.seccomp` of one container, for its capabilities, on this machine's architecture.
 *
 * The default profile is the one Debian and Ubuntu ship for podman (package
 * golang-github-containers-common, /usr/share/containers/seccomp.json; /etc/containers/seccomp.json
 * overrides it, as for podman), made equivalent to docker's default where podman's is more
 * permissive: the syscalls docker allows only with a capability (mount, unshare, setns, ...) or
 * never (keyctl, pivot_root, ...) are refused with EPERM without it, and clone may not create
 * namespaces without CAP_SYS_ADMIN (see DOCKER_GATES).
 */

export interface SeccompArg {
  index: number
  value: number
  valueTwo?: number
  op: string
}

/** One rule of a docker-format profile. */
export interface ProfileSyscall {
  name?: string
  names?: string[]
  action: string
  errnoRet?: number
  args?: SeccompArg[] | null
  comment?: string
  includes?: {caps?: string[]; arches?: string[]; minKernel?: string} | null
  excludes?: {caps?: string[]; arches?: string[]; minKernel?: string} | null
}

/** A seccomp profile in docker's format (docker run --security-opt seccomp=FILE). */
export interface SeccompProfile {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  archMap?: Array<{architecture: string; subArchitectures?: string[] | null}> | null
  flags?: string[]
  syscalls?: ProfileSyscall[] | null
}

/** The OCI runtime spec's linux.seccomp. */
export interface OciSeccomp {
  defaultAction: string
  defaultErrnoRet?: number
  architectures?: string[]
  flags?: string[]
  syscalls: Array<{names: string[]; action: string; errnoRet?: number; args?: SeccompArg[]}>
}

/** What `--security-opt seccomp=` chose; recorded with the container and shown by inspect. */
export type SeccompChoice = {profile: 'default'; file: string} | {profile: 'unconfined'} | {profile: 'file'; file: string}

/** Where the default profile is looked for, the first found wins (podman's order). */
export const DEFAULT_PROFILE_PATHS: readonly string[] = ['/etc/containers/seccomp.json', '/usr/share/containers/seccomp.json']

/** Node's process.arch → Go's GOARCH (the names profiles use in includes/excludes.arches). */
const GOARCH: Record<string, string> = {
  x64: 'amd64',
  arm64: 'arm64',
  arm: 'arm',
  ia32: '386',
  ppc64: 'ppc64le',
  s390x: 's390x',
  riscv64: 'riscv64',
  mips64el: 'mips64le',
  loong64: 'loong64',
}

/** GOARCH → the libseccomp native architecture (docker's nativeToSeccomp). */
const NATIVE: Record<string, string> = {
  amd64: 'SCMP_ARCH_X86_64',
  arm64: 'SCMP_ARCH_AARCH64',
  arm: 'SCMP_ARCH_ARM',
  '386': 'SCMP_ARCH_X86',
  ppc64le: 'SCMP_ARCH_PPC64LE',
  s390x: 'SCMP_ARCH_S390X',
  riscv64: 'SCMP_ARCH_RISCV64',
  mips64le: 'SCMP_ARCH_MIPSEL64',
  loong64: 'SCMP_ARCH_LOONGARCH64',
}

export function goArch(nodeArch: string = process.arch): string {
  return GOARCH[nodeArch] ?? nodeArch
}

/** "6.1.0-18-amd64" → [6, 1]. */
export function kernelVersion(text: string = release()): [number, number] {
  const m = /^(\d+)\.(\d+)/.exec(text)
  return m ? [Number(m[1]), Number(m[2])] : [0, 0]
}

function kernelAtLeast(kernel: [number, number], min: string): boolean {
  const [maj, mnr] = kernelVersion(min)
  return kernel[0] > maj || (kernel[0] === maj && kernel[1] >= mnr)
}

export interface SeccompTarget {
  /** The container's bounding capabilities. */
  capabilities: readonly string[]
  /** GOARCH of this machine (goArch()). */
  arch: string
  kernel: [number, number]
}

/**
 * docker's conversion of a profile for one container (moby profiles/seccomp setupSeccomp):
 * the native architecture and its sub-architectures from archMap; each rule kept only when its
 * includes hold (all listed capabilities, one of the architectures, the kernel at least
 * minKernel) and its excludes do not (any listed capability, one of the architectures, the
 * kernel at least minKernel).
 */
export function profileToOci(profile: SeccompProfile, target: SeccompTarget): OciSeccomp {
  const out: OciSeccomp = {defaultAction: profile.defaultAction, syscalls: []}
  if (profile.defaultErrnoRet !== undefined) out.defaultErrnoRet = profile.defaultErrnoRet
  if (profile.flags && profile.flags.length > 0) out.flags = [...profile.flags]
  const arches = [...(profile.architectures ?? [])]
  const native = NATIVE[target.arch]
  for (const a of profile.archMap ?? []) {
    if (a.architecture === native) arches.push(a.architecture, ...(a.subArchitectures ?? []))
  }
  if (arches.length > 0) out.architectures = arches
  const has = (cap: string) => target.capabilities.includes(cap)
  for (const rule of profile.syscalls ?? []) {
    const ex = rule.excludes ?? {}
    if (ex.arches?.includes(target.arch)) continue
    if (ex.caps?.some(has)) continue
    if (ex.minKernel && kernelAtLeast(target.kernel, ex.minKernel)) continue
    const inc = rule.includes ?? {}
    if (inc.arches && inc.arches.length > 0 && !inc.arches.includes(target.arch)) continue
    if (inc.caps && !inc.caps.every(has)) continue
    if (inc.minKernel && !kernelAtLeast(target.kernel, inc.minKernel)) continue
    const names = rule.names ?? (rule.name ? [rule.name] : [])
    if (names.length === 0) continue
    out.syscalls.push({
      names: [...names],
      action: rule.action,
      ...(rule.errnoRet !== undefined ? {errnoRet: rule.errnoRet} : {}),
      ...(rule.args && rule.args.length > 0 ? {args: rule.args.map((a) => ({...a}))} : {}),
    })
  }
  return out
}

const EPERM = 1
const ENOSYS = 38
/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET (docker's clone mask). */
const CLONE_NAMESPACE_FLAGS = 0x7e020000

/**
 * Where docker's default profile is stricter than containers-common's: these syscalls are
 * allowed only with one of the capabilities (none: never).
 */
export const DOCKER_GATES: ReadonlyArray<{names: readonly string[]; anyOf: readonly string[]}> = [
  {
    anyOf: ['CAP_SYS_ADMIN'],
    names: [
      'bpf', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie', 'mount', 'mount_setattr',
      'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl', 'quotactl_fd', 'setdomainname',
      'sethostname', 'setns', 'umount', 'umount2', 'unshare',
    ],
  },
  {anyOf: ['CAP_SYS_ADMIN', 'CAP_SYSLOG'], names: ['syslog']},
  {anyOf: ['CAP_SYS_BOOT'], names: ['reboot']},
  {anyOf: ['CAP_SYS_NICE'], names: ['get_mempolicy', 'mbind', 'set_mempolicy']},
  {anyOf: ['CAP_SYS_PTRACE'], names: ['kcmp', 'pidfd_getfd', 'process_madvise']},
  // The kernel keyring is not namespaced; pivot_root is the runtime's business.
  {anyOf: [], names: ['add_key', 'keyctl', 'request_key', 'pivot_root']},
]

/**
 * Tightens a converted containers-common profile to docker's default rules (DOCKER_GATES): gated
 * syscalls the container lacks the capability for are taken out of every allow rule and refused
 * with EPERM; without CAP_SYS_ADMIN clone may not create namespaces and clone3 fails with ENOSYS
 * (so that the C library falls back to clone, whose flags can be checked).
 */
export function applyDockerGates(seccomp: OciSeccomp, target: SeccompTarget): OciSeccomp {
  const has = (cap: string) => target.capabilities.includes(cap)
  const denied = new Set<string>()
  for (const gate of DOCKER_GATES) if (!gate.anyOf.some(has)) for (const n of gate.names) denied.add(n)
  const sysAdmin = has('CAP_SYS_ADMIN')
  if (!sysAdmin) denied.add('clone').add('clone3')
  const allowed = (n: string) => !denied.has(n)
  let cloneAllowed = false
  const syscalls: OciSeccomp['syscalls'] = []
  for (const rule of seccomp.syscalls) {
    if (rule.action !== 'SCMP_ACT_ALLOW') {
      // Refusals stay, except for the syscalls given a rule of their own below.
      const names = sysAdmin ? rule.names : rule.names.filter((n) => n !== 'clone' && n !== 'clone3')
      if (names.length > 0) syscalls.push({...rule, names})
      continue
    }
    if (rule.names.includes('clone') && !rule.args) cloneAllowed = true
    const names = rule.names.filter(allowed)
    if (names.length > 0) syscalls.push({...rule, names})
  }
  const listed = new Set(syscalls.flatMap((r) => r.names))
  const refuse = [...denied].filter((n) => n !== 'clone' && n !== 'clone3' && !listed.has(n)).sort()
  if (refuse.length > 0) syscalls.push({names: refuse, action: 'SCMP_ACT_ERRNO', errnoRet: EPERM})
  if (!sysAdmin) {
    if (cloneAllowed) {
      // s390 passes the flags in the second argument.
      const index = target.arch === 's390x' ? 1 : 0
      syscalls.push({names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{index, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ'}]})
    }
    syscalls.push({names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS})
  }
  return {...seccomp, syscalls}
}

/** The default profile's file, or undefined when none is installed. */
export function findDefaultProfile(paths: readonly string[] = DEFAULT_PROFILE_PATHS): string | undefined {
  return paths.find((p) => existsSync(p))
}

const ACTIONS = new Set([
  'SCMP_ACT_KILL', 'SCMP_ACT_KILL_PROCESS', 'SCMP_ACT_KILL_THREAD', 'SCMP_ACT_TRAP', 'SCMP_ACT_ERRNO', 'SCMP_ACT_TRACE',
  'SCMP_ACT_ALLOW', 'SCMP_ACT_LOG', 'SCMP_ACT_NOTIFY',
])
const OPS = new Set(['SCMP_CMP_NE', 'SCMP_CMP_LT', 'SCMP_CMP_LE', 'SCMP_CMP_EQ', 'SCMP_CMP_GE', 'SCMP_CMP_GT', 'SCMP_CMP_MASKED_EQ'])

/**
 * Reads and checks a docker-format profile: one clear UsageError naming the file and the
 * field for anything runc would refuse later (or silently misread).
 */
export function readProfile(file: string): SeccompProfile {
  let text: string
  try {
    text = readFileSync(file, 'utf8')
  } catch (err) {
    throw new UsageError(`seccomp profile ${file}: cannot read it (${(err as NodeJS.ErrnoException).code ?? String(err)})`)
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch {
    throw new UsageError(`seccomp profile ${file}: not valid JSON`)
  }
  return checkProfile(doc, `seccomp profile ${file}`)
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every((x) => typeof x === 'string')

/** Structural check of a docker-format profile (the fields the conversion and runc read). */
export function checkProfile(doc: unknown, what: string): SeccompProfile {
  const fail = (field: string, expected: string): never => {
    throw new UsageError(`${what}: ${field} must be ${expected}`)
  }
  if (!isObject(doc)) fail('the document', 'a JSON object')
  const p = doc as Record<string, unknown>
  if (typeof p.defaultAction !== 'string' || !ACTIONS.has(p.defaultAction)) fail('.defaultAction', 'a seccomp action such as SCMP_ACT_ERRNO')
  if (p.defaultErrnoRet !== undefined && !Number.isInteger(p.defaultErrnoRet)) fail('.defaultErrnoRet', 'an integer')
  if (p.architectures !== undefined && p.architectures !== null && !isStringList(p.architectures)) fail('.architectures', 'a list of strings')
  if (p.flags !== undefined && p.flags !== null && !isStringList(p.flags)) fail('.flags', 'a list of strings')
  if (p.archMap !== undefined && p.archMap !== null) {
    if (!Array.isArray(p.archMap)) fail('.archMap', 'a list')
    ;(p.archMap as unknown[]).forEach((a, i) => {
      if (!isObject(a) || typeof a.architecture !== 'string') fail(`.archMap[${i}].architecture`, 'a string')
      const sub = (a as Record<string, unknown>).subArchitectures
      if (sub !== undefined && sub !== null && !isStringList(sub)) fail(`.archMap[${i}].subArchitectures`, 'a list of strings')
    })
  }
  if (p.syscalls !== undefined && p.syscalls !== null) {
    if (!Array.isArray(p.syscalls)) fail('.syscalls', 'a list')
    ;(p.syscalls as unknown[]).forEach((s, i) => {
      const at = `.syscalls[${i}]`
      if (!isObject(s)) fail(at, 'an object')
      const r = s as Record<string, unknown>
      if (r.names !== undefined && !isStringList(r.names)) fail(`${at}.names`, 'a list of strings')
      if (r.name !== undefined && typeof r.name !== 'string') fail(`${at}.name`, 'a string')
      if (r.name !== undefined && r.names !== undefined) fail(at, 'either "name" or "names", not both')
      if (typeof r.action !== 'string' || !ACTIONS.has(r.action)) fail(`${at}.action`, 'a seccomp action such as SCMP_ACT_ALLOW')
      if (r.errnoRet !== undefined && !Number.isInteger(r.errnoRet)) fail(`${at}.errnoRet`, 'an integer')
      if (r.args !== undefined && r.args !== null) {
        if (!Array.isArray(r.args)) fail(`${at}.args`, 'a list')
        ;(r.args as unknown[]).forEach((a, j) => {
          const aa = a as Record<string, unknown>
          if (!isObject(a) || !Number.isInteger(aa.index) || !Number.isInteger(aa.value) || typeof aa.op !== 'string' || !OPS.has(aa.op)) {
            fail(`${at}.args[${j}]`, 'an object with integer index and value and an op such as SCMP_CMP_EQ')
          }
        })
      }
      for (const key of ['includes', 'excludes'] as const) {
        const f = r[key]
        if (f === undefined || f === null) continue
        if (!isObject(f)) fail(`${at}.${key}`, 'an object')
        const ff = f as Record<string, unknown>
        if (ff.caps !== undefined && !isStringList(ff.caps)) fail(`${at}.${key}.caps`, 'a list of strings')
        if (ff.arches !== undefined && !isStringList(ff.arches)) fail(`${at}.${key}.arches`, 'a list of strings')
        if (ff.minKernel !== undefined && (typeof ff.minKernel !== 'string' || !/^\d+\.\d+/.test(ff.minKernel))) fail(`${at}.${key}.minKernel`, 'a kernel version such as "4.8"')
      }
    })
  }
  return p as unknown as SeccompProfile
}

/**
 * Parses `--security-opt` values (docker's syntax): `seccomp=unconfined|default|FILE`,
 * `no-new-privileges[=true|false]` (also with `:`). Returns what was given; the rest is refused.
 */
export function parseSecurityOpts(opts: readonly string[]): {seccomp?: string; noNewPrivileges?: boolean; unmaskSystemPaths?: boolean} {
  const out: {seccomp?: string; noNewPrivileges?: boolean; unmaskSystemPaths?: boolean} = {}
  for (const opt of opts) {
    const m = /^([a-z-]+)(?:[=:](.*))?$/s.exec(opt)
    const key = m?.[1]
    const value = m?.[2]
    if (key === 'seccomp' && value !== undefined && value !== '') {
      out.seccomp = value
    } else if (key === 'no-new-privileges') {
      if (value === undefined || value === 'true') out.noNewPrivileges = true
      else if (value === 'false') out.noNewPrivileges = false
      else throw new UsageError(`invalid --security-opt ${opt}: no-new-privileges takes true or false`)
    } else if (key === 'apparmor') {
      // ctr-ts never loads an AppArmor profile for a container (a rootless user cannot): unconfined is what it gets.
      if (value !== 'unconfined') {
        throw new UsageError(`invalid --security-opt ${opt}: AppArmor profiles cannot be loaded by a rootless user; only apparmor=unconfined is accepted`)
      }
    } else if (key === 'label') {
      // No SELinux labelling is done; disable is what happens anyway.
      if (value !== 'disable') {
        throw new UsageError(`invalid --security-opt ${opt}: SELinux labels are not applied by ctr-ts; only label=disable is accepted`)
      }
    } else if (key === 'systempaths') {
      if (value !== 'unconfined') throw new UsageError(`invalid --security-opt ${opt}: only systempaths=unconfined is accepted`)
      out.unmaskSystemPaths = true
    } else {
      throw new UsageError(
        `invalid --security-opt ${opt}: supported are seccomp=unconfined|FILE, no-new-privileges[=true|false], apparmor=unconfined, label=disable and systempaths=unconfined`,
      )
    }
  }
  return out
}

/**
 * Resolves the seccomp choice: `unconfined`, `default` (the installed default profile, refused
 * with a fix when none is installed), or an absolute or relative FILE (checked now).
 */
export function resolveSeccomp(choice: string | undefined, cwd: string = process.cwd(), paths: readonly string[] = DEFAULT_PROFILE_PATHS): SeccompChoice {
  if (choice === 'unconfined') return {profile: 'unconfined'}
  if (choice === undefined || choice === 'default') {
    const file = findDefaultProfile(paths)
    if (!file) {
      throw new PrerequisiteError(
        `no default seccomp profile (${paths.join(' or ')}): install it (Debian/Ubuntu: apt-get install golang-github-containers-common) or run with --security-opt seccomp=unconfined`,
      )
    }
    return {profile: 'default', file}
  }
  const file = isAbsolute(choice) ? choice : `${cwd}/${choice}`
  readProfile(file)
  return {profile: 'file', file}
}

/** Changed whenever the conversion changes, so that no filter of an older conversion is used. */
const SECCOMP_CACHE_VERSION = 1

/**
 * The OCI linux.seccomp for a choice and a container's capabilities (undefined: unconfined).
 * With `cacheDir` the result is kept there, one file per profile file (path, size, mtime, inode),
 * capability set, architecture and kernel: reading, checking and converting the profile cost
 * more than the rest of `create` (issue 12). A cache file that cannot be read or written is
 * ignored (the filter is converted as without a cache).
 */
export function seccompFor(
  choice: SeccompChoice,
  capabilities: readonly string[],
  arch = goArch(),
  kernel = kernelVersion(),
  cacheDir?: string,
): OciSeccomp | undefined {
  if (choice.profile === 'unconfined') return undefined
  const target = {capabilities, arch, kernel}
  const convert = () => {
    const oci = profileToOci(readProfile(choice.file), target)
    return choice.profile === 'default' ? applyDockerGates(oci, target) : oci
  }
  if (!cacheDir) return convert()
  let file: string
  try {
    const st = statSync(choice.file)
    const key = JSON.stringify([SECCOMP_CACHE_VERSION, choice.profile, choice.file, st.size, st.mtimeMs, st.ino, [...capabilities].sort(), arch, kernel])
    file = join(cacheDir, `${createHash('sha256').update(key).digest('hex')}.json`)
  } catch {
    return convert() // readProfile reports the unreadable file
  }
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as OciSeccomp
  } catch {
    // not cached yet (or unreadable): convert, then keep it
  }
  const oci = convert()
  try {
    mkdirSync(cacheDir, {recursive: true, mode: 0o700})
    const tmp = `${file}.${process.pid}.tmp`
    writeFileSync(tmp, JSON.stringify(oci), {mode: 0o600})
    renameSync(tmp, file)
  } catch {
    // a cache we cannot write is no cache
  }
  return oci
}

/** How inspect and the record name a choice: default, unconfined, or the file's path. */
export function seccompLabel(choice: SeccompChoice): string {
  return choice.profile === 'file' ? choice.file : choice.profile
}
