import {execa} from 'execa'
import {closeSync, constants, openSync, readFileSync, statSync} from 'node:fs'
import {join} from 'node:path'
import type {CtrConfig} from '../config/schema.js'
import {which} from '../runtime/binaries.js'
import {DEFAULT_PROFILE_PATHS, goArch, kernelVersion, profileToOci, readProfile, resolveSeccomp} from '../spec/seccomp.js'
import {type CgroupFacts, evaluateResourceSupport, gatherCgroupFacts} from '../spec/resources.js'
import {packageRoot} from '../userns/helpers.js'
import {userNsArgv, lastLine} from '../userns/exec.js'
import {type CurrentUser, currentUser, parseSubIdFile, type SubIdRange, userNsMapping} from '../userns/idmap.js'

/**
 * `ctr-ts system check`: every prerequisite of rootless containers, one result each, with the
 * fix when something is wrong. Everything the checks look at comes from a CheckEnv, so a test
 * can hide a prerequisite (a PATH without fuse-overlayfs, a subuid file without the user).
 */
export type CheckStatus = 'ok' | 'warn' | 'fail' | 'info'

export interface CheckResult {
  id: string
  title: string
  /** fail: a required prerequisite is missing; warn: something optional or degraded. */
  status: CheckStatus
  detail: string
  fix?: string
  required: boolean
}

export interface CheckEnv {
  /** PATH (binaries are looked up there, plus the sbin directories) and XDG_RUNTIME_DIR. */
  env: NodeJS.ProcessEnv
  /** /proc/sys */
  procSys: string
  subuidFile: string
  subgidFile: string
  devFuse: string
  devTun: string
  user: CurrentUser
  cgroup: CgroupFacts
  /** Our user-namespace helper (shim/build/ctr-ts-userns), probed with `-- true`. */
  usernsHelper: string
  /** Our container shim (shim/build/ctr-ts-shim). */
  shim: string
  config: Pick<CtrConfig, 'runtime' | 'network' | 'init' | 'rootfs'> & Partial<Pick<CtrConfig, 'security'>>
  /** /proc/self/status (its Seccomp line). */
  procSelfStatus: string
  /** Where the default seccomp profile is looked for. */
  seccompProfilePaths: readonly string[]
}

/**
 * The real machine. CTR_TS_SUBUID_FILE / CTR_TS_SUBGID_FILE replace /etc/subuid and /etc/subgid
 * for the check only (to test it, or to check a file before installing it).
 */
export function defaultCheckEnv(config: CheckEnv['config'], env: NodeJS.ProcessEnv = process.env): CheckEnv {
  return {
    env,
    procSys: '/proc/sys',
    subuidFile: env.CTR_TS_SUBUID_FILE || '/etc/subuid',
    subgidFile: env.CTR_TS_SUBGID_FILE || '/etc/subgid',
    devFuse: '/dev/fuse',
    devTun: '/dev/net/tun',
    user: currentUser(),
    cgroup: gatherCgroupFacts(),
    usernsHelper: join(packageRoot, 'shim', 'build', 'ctr-ts-userns'),
    shim: join(packageRoot, 'shim', 'build', 'ctr-ts-shim'),
    config,
    procSelfStatus: '/proc/self/status',
    seccompProfilePaths: DEFAULT_PROFILE_PATHS,
  }
}

function readTrim(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
}

function canOpenRw(path: string): string | undefined {
  try {
    closeSync(openSync(path, constants.O_RDWR))
    return undefined
  } catch (err) {
    return (err as NodeJS.ErrnoException).code ?? (err as Error).message
  }
}

function isExecutable(path: string): boolean {
  try {
    const st = statSync(path)
    return st.isFile() && (st.mode & 0o111) !== 0
  } catch {
    return false
  }
}

const total = (ranges: SubIdRange[]) => ranges.reduce((n, r) => n + r.count, 0)

export async function runChecks(ce: CheckEnv): Promise<CheckResult[]> {
  const results: CheckResult[] = []
  const add = (r: CheckResult) => results.push(r)
  const find = (name: string) => which(name, ce.env)

  // --- our own helpers
  const helpersMissing = [ce.usernsHelper, ce.shim].filter((p) => !isExecutable(p))
  add({
    id: 'helpers',
    title: 'ctr-ts helpers',
    status: helpersMissing.length ? 'fail' : 'ok',
    detail: helpersMissing.length ? `missing: ${helpersMissing.join(', ')}` : 'ctr-ts-userns and ctr-ts-shim built',
    fix: helpersMissing.length ? 'build them: npm run build (needs make and a C compiler)' : undefined,
    required: true,
  })

  // --- id ranges (needed by the probe too)
  const subuid = parseSubIdFile(readTrim(ce.subuidFile) ?? '', {name: ce.user.name, id: ce.user.uid})
  const subgid = parseSubIdFile(readTrim(ce.subgidFile) ?? '', {name: ce.user.name, id: ce.user.uid})

  // --- user namespaces
  const clone = readTrim(join(ce.procSys, 'kernel', 'unprivileged_userns_clone'))
  const maxNs = readTrim(join(ce.procSys, 'user', 'max_user_namespaces'))
  const apparmor = readTrim(join(ce.procSys, 'kernel', 'apparmor_restrict_unprivileged_userns'))
  let probeOk = false
  let probeWhy = ''
  const newuidmap = find('newuidmap')
  const newgidmap = find('newgidmap')
  if (!helpersMissing.includes(ce.usernsHelper)) {
    // the helper of this check (ce.usernsHelper), with the argv ctr-ts itself gives ctr-ts-userns
    const {args} = userNsArgv(userNsMapping(ce.user, subuid, subgid), [find('true') ?? '/bin/true'])
    const r = await execa(ce.usernsHelper, args, {env: ce.env, extendEnv: false, reject: false, timeout: 15_000})
    probeOk = r.exitCode === 0
    if (!probeOk) probeWhy = lastLine(String(r.stderr ?? '')) || `exit code ${r.exitCode}`
  } else probeWhy = 'ctr-ts-userns is not built'
  if (clone === '0') {
    add({id: 'userns', title: 'user namespaces', status: 'fail', detail: 'kernel.unprivileged_userns_clone = 0', fix: 'sudo sysctl -w kernel.unprivileged_userns_clone=1 (and persist it in /etc/sysctl.d/)', required: true})
  } else if (maxNs !== undefined && Number(maxNs) <= 0) {
    add({id: 'userns', title: 'user namespaces', status: 'fail', detail: `user.max_user_namespaces = ${maxNs}`, fix: 'sudo sysctl -w user.max_user_namespaces=28633 (and persist it in /etc/sysctl.d/)', required: true})
  } else if (!probeOk) {
    add({
      id: 'userns',
      title: 'user namespaces',
      status: 'fail',
      detail: `creating a user namespace failed: ${probeWhy}`,
      fix:
        apparmor === '1'
          ? 'AppArmor restricts unprivileged user namespaces: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0, or add an AppArmor profile for ctr-ts'
          : 'check newuidmap/newgidmap and /etc/subuid, /etc/subgid below; see https://rootlesscontaine.rs/getting-started/common/',
      required: true,
    })
  } else {
    add({id: 'userns', title: 'user namespaces', status: 'ok', detail: `enabled (max_user_namespaces=${maxNs ?? '?'}), probe succeeded`, required: true})
  }

  // --- newuidmap / newgidmap
  for (const [tool, path] of [['newuidmap', newuidmap], ['newgidmap', newgidmap]] as const) {
    if (!path) {
      add({id: tool, title: tool, status: 'fail', detail: 'not found on PATH', fix: 'sudo apt-get install uidmap (Fedora: shadow-utils)', required: true})
      continue
    }
    const st = statSync(path)
    const setuidRoot = (st.mode & 0o4000) !== 0 && st.uid === 0
    if (setuidRoot) add({id: tool, title: tool, status: 'ok', detail: `${path} (setuid root)`, required: true})
    else
      add({
        id: tool,
        title: tool,
        status: probeOk ? 'warn' : 'fail',
        detail: `${path} is not setuid root${probeOk ? ' (the probe worked: file capabilities?)' : ''}`,
        fix: `sudo chown root ${path} && sudo chmod u+s ${path}`,
        required: true,
      })
  }

  // --- subordinate id ranges
  for (const [what, file, ranges] of [['subuid', ce.subuidFile, subuid], ['subgid', ce.subgidFile, subgid]] as const) {
    const n = total(ranges)
    const fix = `sudo usermod --add-subuids 100000-165535 --add-subgids 100000-165535 ${ce.user.name}`
    if (n === 0) add({id: what, title: `${file} range`, status: 'fail', detail: `no range for user ${ce.user.name} (uid ${ce.user.uid})`, fix, required: true})
    else if (n < 65536)
      add({id: what, title: `${file} range`, status: 'warn', detail: `${n} ids for ${ce.user.name}: fewer than the 65536 recommended (images using higher ids fail to unpack)`, fix, required: true})
    else add({id: what, title: `${file} range`, status: 'ok', detail: ranges.map((r) => `${r.start}:${r.count}`).join(', '), required: true})
  }

  // --- fuse
  const fuseRequired = ce.config.rootfs.driver === 'fuse-overlayfs'
  const miss = fuseRequired ? 'fail' : 'warn'
  const fuseErr = canOpenRw(ce.devFuse)
  add(
    fuseErr
      ? {id: 'fuse', title: ce.devFuse, status: miss, detail: `cannot open read-write: ${fuseErr}`, fix: `sudo modprobe fuse && sudo chmod 666 ${ce.devFuse}`, required: fuseRequired}
      : {id: 'fuse', title: ce.devFuse, status: 'ok', detail: 'usable', required: fuseRequired},
  )
  const fov = find('fuse-overlayfs')
  add(
    fov
      ? {id: 'fuse-overlayfs', title: 'fuse-overlayfs', status: 'ok', detail: fov, required: fuseRequired}
      : {id: 'fuse-overlayfs', title: 'fuse-overlayfs', status: miss, detail: 'not found on PATH', fix: 'sudo apt-get install fuse-overlayfs', required: fuseRequired},
  )

  // --- the kernel overlayfs driver (rootfs.driver: overlay): mounted in a user namespace since 5.11
  if (ce.config.rootfs.driver === 'overlay') {
    const [maj, min] = kernelVersion()
    const ok = maj > 5 || (maj === 5 && min >= 11)
    add(
      ok
        ? {id: 'kernel-overlay', title: 'kernel overlayfs (rootfs.driver overlay)', status: 'ok', detail: `kernel ${maj}.${min} mounts overlayfs in a user namespace (userxattr)`, required: true}
        : {id: 'kernel-overlay', title: 'kernel overlayfs (rootfs.driver overlay)', status: 'fail', detail: `kernel ${maj}.${min}: unprivileged overlayfs needs Linux 5.11+`, fix: 'set rootfs.driver to fuse-overlayfs', required: true},
    )
  }

  // --- OCI runtime
  const cgroupV2 = ce.cgroup.fsType === 'cgroup2'
  const rtName = ce.config.runtime.name
  const rtPath = ce.config.runtime.path ? (isExecutable(ce.config.runtime.path) ? ce.config.runtime.path : undefined) : find(rtName)
  if (!rtPath) {
    add({
      id: 'runtime',
      title: `OCI runtime (${rtName})`,
      status: 'fail',
      detail: ce.config.runtime.path ? `${ce.config.runtime.path} is not executable` : 'not found on PATH',
      fix: `sudo apt-get install ${rtName}`,
      required: true,
    })
  } else if (rtName === 'crun' && !cgroupV2) {
    add({
      id: 'runtime',
      title: `OCI runtime (${rtName})`,
      status: 'warn',
      detail: `${rtPath}: crun does not work rootless on cgroup v1/hybrid`,
      fix: 'use runc: set runtime.name to "runc" (apt-get install runc)',
      required: true,
    })
  } else add({id: 'runtime', title: `OCI runtime (${rtName})`, status: 'ok', detail: rtPath, required: true})

  // --- seccomp: the kernel's filter, the runtime's libseccomp, the default profile
  add(await seccompCheck(ce, rtPath))

  // --- network
  const slirpRequired = ce.config.network.default === 'slirp4netns'
  const slirp = find('slirp4netns')
  add(
    slirp
      ? {id: 'slirp4netns', title: 'slirp4netns', status: 'ok', detail: slirp, required: slirpRequired}
      : {
          id: 'slirp4netns',
          title: 'slirp4netns',
          status: slirpRequired ? 'fail' : 'warn',
          detail: 'not found on PATH (needed for --network slirp4netns and -p)',
          fix: 'sudo apt-get install slirp4netns',
          required: slirpRequired,
        },
  )
  const tunErr = canOpenRw(ce.devTun)
  add(
    tunErr
      ? {
          id: 'tun',
          title: ce.devTun,
          status: slirpRequired ? 'fail' : 'warn',
          detail: `cannot open read-write: ${tunErr}`,
          fix: 'sudo modprobe tun && sudo chmod 666 /dev/net/tun',
          required: slirpRequired,
        }
      : {id: 'tun', title: ce.devTun, status: 'ok', detail: 'usable', required: slirpRequired},
  )

  // --- init
  const init = ce.config.init.path ? (isExecutable(ce.config.init.path) ? ce.config.init.path : undefined) : ['tini-static', 'catatonit', 'tini'].map(find).find(Boolean)
  add(
    init
      ? {id: 'init', title: 'init for --init', status: 'ok', detail: init, required: false}
      : {id: 'init', title: 'init for --init', status: 'warn', detail: 'no tini or catatonit: --init will not work', fix: 'sudo apt-get install tini (or catatonit)', required: false},
  )

  // --- setfattr (user.* extended attributes of image files)
  const setfattr = find('setfattr')
  add(
    setfattr
      ? {id: 'setfattr', title: 'setfattr', status: 'ok', detail: setfattr, required: false}
      : {id: 'setfattr', title: 'setfattr', status: 'warn', detail: 'not found: user.* extended attributes in images are not restored', fix: 'sudo apt-get install attr', required: false},
  )

  // --- cgroups
  if (!cgroupV2) {
    add({
      id: 'cgroup',
      title: 'cgroups',
      status: 'warn',
      detail:
        'cgroup v1/hybrid: resource limits (--memory, --cpus, --pids-limit) are unavailable, because an unprivileged user cannot create cgroups on v1; containers run without limits',
      fix: 'boot with systemd.unified_cgroup_hierarchy=1 and enable delegation: https://rootlesscontaine.rs/getting-started/common/cgroup2/',
      required: false,
    })
  } else {
    const support = evaluateResourceSupport(ce.cgroup)
    add(
      support.ok
        ? {id: 'cgroup', title: 'cgroups', status: 'ok', detail: `v2, controllers delegated (${support.cgroupPath})`, required: false}
        : {id: 'cgroup', title: 'cgroups', status: 'warn', detail: `v2 without delegation: ${support.reason.split(';')[0]}`, fix: 'enable delegation: https://rootlesscontaine.rs/getting-started/common/cgroup2/', required: false},
    )
  }

  // --- XDG_RUNTIME_DIR
  const xdg = ce.env.XDG_RUNTIME_DIR
  if (!xdg) {
    add({
      id: 'xdg-runtime-dir',
      title: 'XDG_RUNTIME_DIR',
      status: 'warn',
      detail: `unset: runtime state goes to /tmp/ctr-ts-run-${ce.user.uid}`,
      fix: `log in through a systemd user session (sudo loginctl enable-linger ${ce.user.name}) or export XDG_RUNTIME_DIR`,
      required: false,
    })
  } else {
    let ok = false
    try {
      const st = statSync(xdg)
      ok = st.isDirectory() && st.uid === ce.user.uid
    } catch {
      ok = false
    }
    add(
      ok
        ? {id: 'xdg-runtime-dir', title: 'XDG_RUNTIME_DIR', status: 'ok', detail: xdg, required: false}
        : {
            id: 'xdg-runtime-dir',
            title: 'XDG_RUNTIME_DIR',
            status: 'warn',
            detail: `${xdg} is not a directory owned by uid ${ce.user.uid}: runtime state goes to /tmp/ctr-ts-run-${ce.user.uid}`,
            fix: 'unset it or point it at your own runtime directory',
            required: false,
          },
    )
  }

  // --- privileged ports
  const portStart = readTrim(join(ce.procSys, 'net', 'ipv4', 'ip_unprivileged_port_start'))
  add({
    id: 'ports',
    title: 'unprivileged ports',
    status: 'info',
    detail: portStart !== undefined ? `host ports from ${portStart} can be published (net.ipv4.ip_unprivileged_port_start)` : 'net.ipv4.ip_unprivileged_port_start unknown',
    fix: portStart !== undefined && Number(portStart) > 0 ? 'to publish lower ports: sudo sysctl -w net.ipv4.ip_unprivileged_port_start=80' : undefined,
    required: false,
  })

  return results
}

/**
 * Seccomp support: the kernel filters (/proc/self/status has Seccomp, and the errno action is
 * available), the runtime is built with libseccomp (`runc --version` names it), and the default
 * profile is installed and readable (only when the configuration uses it).
 */
async function seccompCheck(ce: CheckEnv, rtPath: string | undefined): Promise<CheckResult> {
  const base = {id: 'seccomp', title: 'seccomp', required: true}
  const status = readTrim(ce.procSelfStatus) ?? ''
  const actions = readTrim(join(ce.procSys, 'kernel', 'seccomp', 'actions_avail'))
  if (!/^Seccomp:/m.test(status) || (actions !== undefined && !actions.split(/\s+/).includes('errno'))) {
    return {...base, status: 'fail', detail: 'the kernel has no seccomp filter support (CONFIG_SECCOMP_FILTER)', fix: 'use a kernel with seccomp, or run containers with --security-opt seccomp=unconfined'}
  }
  let libseccomp = 'unknown'
  if (rtPath) {
    const r = await execa(rtPath, ['--version'], {env: ce.env, extendEnv: false, reject: false, timeout: 10_000})
    const m = /libseccomp:\s*(\S+)/.exec(String(r.stdout ?? ''))
    if (r.exitCode === 0 && !m && ce.config.runtime.name === 'runc') {
      return {...base, status: 'fail', detail: `${rtPath} is built without libseccomp`, fix: 'install a runc built with seccomp (Debian/Ubuntu: apt-get install runc)'}
    }
    if (m) libseccomp = m[1]!
  }
  const wanted = ce.config.security?.seccompProfile ?? 'default'
  if (wanted === 'unconfined') {
    return {...base, status: 'warn', detail: 'security.seccompProfile is "unconfined": containers run without a seccomp filter', fix: 'remove security.seccompProfile from the configuration', required: false}
  }
  try {
    const choice = resolveSeccomp(wanted, '/', ce.seccompProfilePaths)
    const file = choice.profile === 'unconfined' ? '' : choice.file
    const n = profileToOci(readProfile(file), {capabilities: [], arch: goArch(), kernel: kernelVersion()}).syscalls.length
    return {...base, status: 'ok', detail: `${wanted === 'default' ? 'default profile' : 'profile'} ${file} (${n} rules for this machine), libseccomp ${libseccomp}`}
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      detail: (err as Error).message,
      fix:
        wanted === 'default'
          ? 'sudo apt-get install golang-github-containers-common (it ships /usr/share/containers/seccomp.json), or run with --security-opt seccomp=unconfined'
          : 'fix the profile, or remove security.seccompProfile from the configuration',
    }
  }
}

/** True when every required prerequisite is there. */
export function checksPassed(results: CheckResult[]): boolean {
  return !results.some((r) => r.status === 'fail')
}

const TAGS: Record<CheckStatus, string> = {ok: 'ok  ', warn: 'WARN', fail: 'FAIL', info: 'info'}

/** One line: "FAIL fuse-overlayfs: not found on PATH (fix: sudo apt-get install fuse-overlayfs)". */
export function formatCheck(r: CheckResult): string {
  const fix = r.fix && r.status !== 'ok' ? ` (${r.status === 'info' ? 'hint' : 'fix'}: ${r.fix})` : ''
  return `${TAGS[r.status]} ${r.title}: ${r.detail}${fix}`
}
