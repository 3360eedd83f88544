#!/usr/bin/env node
// The test entry point (`npm test`).
//
// As root (CI): installs missing system packages, creates the unprivileged user `ctrtest` with
// sub-uid/sub-gid ranges, opens /dev/fuse and /dev/net/tun, mounts a small tmpfs for the full-disk
// tests (CTR_TS_TEST_SMALLFS), copies the repository (with
// node_modules, dist and the shim build) into the user's home and re-runs this script there as
// that user. ctr-ts is rootless: its tests must run as a normal user.
//
// As a normal user: checks the prerequisites (and says how to fix what is missing), then runs
// `vitest run` (extra arguments are passed through, e.g. a file filter) and prints a final line
// `N passed, M failed[, K skipped]`. The exit code is vitest's.
import {spawn, spawnSync} from 'node:child_process'
import {accessSync, appendFileSync, chmodSync, constants, cpSync, existsSync, mkdirSync, openSync, readFileSync, readSync, closeSync, rmSync, statSync} from 'node:fs'
import {createHash} from 'node:crypto'
import {dirname, join, resolve} from 'node:path'
import {fileURLToPath} from 'node:url'

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..')

// `npm test` may run under an old system node (Debian 12 ships Node 20); the suite needs >= 22.15.
// Re-run under the Node 24 that scripts/setup.sh and .ci/run install, when it is there.
{
  const [major, minor] = process.versions.node.split('.').map(Number)
  const modern = major > 22 || (major === 22 && minor >= 15)
  const installed = '/opt/ctr-ts-node/bin/node'
  if (!modern) {
    if (!existsSync(installed)) {
      console.error(`[test] node ${process.version} is too old (need >= 22.15): run bash scripts/setup.sh first`)
      process.exit(1)
    }
    const r = spawnSync(installed, process.argv.slice(1), {stdio: 'inherit', env: {...process.env, PATH: `/opt/ctr-ts-node/bin:${process.env.PATH ?? ''}`}})
    process.exit(r.status ?? 1)
  }
}
const args = process.argv.slice(2)
const TEST_USER = process.env.CTR_TS_TEST_USER || 'ctrtest'
const SYSTEM_DIRS = ['/usr/local/sbin', '/usr/local/bin', '/usr/sbin', '/usr/bin', '/sbin', '/bin']

const say = (msg) => console.log(`[test] ${msg}`)

function which(name) {
  const dirs = [...(process.env.PATH || '').split(':'), ...SYSTEM_DIRS]
  for (const dir of dirs) {
    if (!dir) continue
    const p = join(dir, name)
    try {
      accessSync(p, constants.X_OK)
      if (statSync(p).isFile()) return p
    } catch {
      // next
    }
  }
  return undefined
}

/** True when the ELF file has no PT_INTERP program header (statically linked). */
function isStaticElf(path) {
  let fd
  try {
    fd = openSync(path, 'r')
    const head = Buffer.alloc(64)
    readSync(fd, head, 0, 64, 0)
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2 || head[5] !== 1) return false // ELF64 LE only
    const phoff = Number(head.readBigUInt64LE(0x20))
    const phentsize = head.readUInt16LE(0x36)
    const phnum = head.readUInt16LE(0x38)
    const ph = Buffer.alloc(phentsize * phnum)
    readSync(fd, ph, 0, ph.length, phoff)
    for (let i = 0; i < phnum; i++) if (ph.readUInt32LE(i * phentsize) === 3) return false
    return true
  } catch {
    return false
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

const sh = (cmd, cmdArgs, opts = {}) => spawnSync(cmd, cmdArgs, {encoding: 'utf8', ...opts})

// binary → Debian package
const REQUIRED = {
  runc: 'runc',
  crun: 'crun',
  'fuse-overlayfs': 'fuse-overlayfs',
  slirp4netns: 'slirp4netns',
  newuidmap: 'uidmap',
  newgidmap: 'uidmap',
  tini: 'tini',
  catatonit: 'catatonit',
  'docker-registry': 'docker-registry',
  // the API service's tests drive Debian's docker client (never dockerd) and docker-compose
  'docker-compose': 'docker-compose',
  // the API service's socket activation test (LISTEN_FDS as systemd passes them)
  'systemd-socket-activate': 'systemd',
  script: 'util-linux',
  openssl: 'openssl',
  ip: 'iproute2',
  ps: 'procps',
  unshare: 'util-linux',
  nsenter: 'util-linux',
  runuser: 'util-linux',
  setfattr: 'attr',
  // interop tests compare with the field's own tools
  skopeo: 'skopeo',
  podman: 'podman',
  // user-defined networks: their firewall rules (iptables-restore; aardvark-dns is checked below)
  iptables: 'iptables',
}

function readRanges(file) {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .map((l) => l.trim().split(':'))
      .filter((p) => p.length === 3)
      .map(([who, start, count]) => ({who, start: Number(start), count: Number(count)}))
  } catch {
    return []
  }
}

// ---------------------------------------------------------------------------------------- root

function installPackages() {
  const missing = new Set()
  for (const [bin, pkg] of Object.entries(REQUIRED)) if (!which(bin)) missing.add(pkg)
  if (!existsSync('/bin/busybox') || !isStaticElf('/bin/busybox')) missing.add('busybox-static')
  // Debian's docker client (the API service's tests; another `docker` on PATH does not count)
  if (!existsSync('/usr/bin/docker')) missing.add('docker.io')
  // the default seccomp profile (podman's, which ctr-ts tightens to docker's rules)
  if (!existsSync('/usr/share/containers/seccomp.json')) missing.add('golang-github-containers-common')
  // user-defined networks: podman's container DNS server, outside PATH
  for (const tool of ['aardvark-dns']) {
    if (!['/usr/lib/podman', '/usr/libexec/podman'].some((d) => existsSync(`${d}/${tool}`))) missing.add(tool)
  }
  if (missing.size === 0) return
  if (!which('apt-get')) throw new Error(`missing packages (${[...missing].join(' ')}) and no apt-get to install them`)
  say(`installing ${[...missing].join(' ')}`)
  const env = {...process.env, DEBIAN_FRONTEND: 'noninteractive'}
  let r = sh('apt-get', ['update', '-qq'], {stdio: 'inherit', env})
  if (r.status !== 0) throw new Error('apt-get update failed')
  r = sh('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing], {stdio: 'inherit', env})
  if (r.status !== 0) throw new Error(`apt-get install ${[...missing].join(' ')} failed`)
}

function writeProc(path, value, when) {
  try {
    if (!existsSync(path)) return
    const cur = readFileSync(path, 'utf8').trim()
    if (when(cur)) {
      appendFileSync(path, `${value}\n`)
      say(`${path}: ${cur} -> ${value}`)
    }
  } catch (err) {
    say(`warning: could not set ${path}: ${err.message}`)
  }
}

function enableUserNamespaces() {
  // Ubuntu 23.10+ (GitHub's ubuntu-24.04 runners) restricts unprivileged user namespaces with AppArmor.
  writeProc('/proc/sys/kernel/apparmor_restrict_unprivileged_userns', '0', (v) => v !== '0')
  writeProc('/proc/sys/kernel/unprivileged_userns_clone', '1', (v) => v === '0')
  writeProc('/proc/sys/user/max_user_namespaces', '15000', (v) => Number(v) < 1000)
}

function ensureUser() {
  if (sh('id', ['-u', TEST_USER]).status !== 0) {
    say(`creating user ${TEST_USER}`)
    const r = sh('useradd', ['--create-home', '--shell', '/bin/bash', TEST_USER], {stdio: 'inherit'})
    if (r.status !== 0) throw new Error(`useradd ${TEST_USER} failed`)
  }
  const entry = sh('getent', ['passwd', TEST_USER]).stdout.trim().split(':')
  const user = {name: TEST_USER, uid: Number(entry[2]), gid: Number(entry[3]), home: entry[5]}
  if (!existsSync(user.home)) {
    mkdirSync(user.home, {recursive: true, mode: 0o755})
    sh('chown', [`${user.uid}:${user.gid}`, user.home])
  }
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    const ranges = readRanges(file)
    if (ranges.some((r) => (r.who === user.name || r.who === String(user.uid)) && r.count >= 65536)) continue
    const start = Math.max(200000, ...ranges.map((r) => r.start + r.count))
    appendFileSync(file, `${user.name}:${start}:65536\n`)
    say(`${file}: ${user.name}:${start}:65536`)
  }
  return user
}

function ensureDevices() {
  const devs = [
    {path: '/dev/fuse', major: 10, minor: 229},
    {path: '/dev/net/tun', major: 10, minor: 200},
  ]
  for (const d of devs) {
    try {
      if (!existsSync(d.path)) {
        mkdirSync(dirname(d.path), {recursive: true})
        sh('mknod', [d.path, 'c', String(d.major), String(d.minor)])
      }
      if ((statSync(d.path).mode & 0o666) !== 0o666) chmodSync(d.path, 0o666)
    } catch (err) {
      say(`warning: ${d.path}: ${err.message}`)
    }
  }
}

// One copy (and one small filesystem) per source checkout, so runs from different clones do not trample each other.
const checkoutTag = createHash('sha256').update(repo).digest('hex').slice(0, 8)

function copyRepo(user) {
  const tag = checkoutTag
  const dest = join(user.home, process.env.CTR_TS_TEST_COPY || `ctr-ts-${tag}`)
  if (resolve(dest) === repo) return dest
  say(`copying ${repo} to ${dest}`)
  rmSync(dest, {recursive: true, force: true})
  const r = sh('cp', ['-a', repo, dest], {stdio: 'inherit'})
  if (r.status !== 0) throw new Error(`cp -a ${repo} ${dest} failed`)
  rmSync(join(dest, 'test-results'), {recursive: true, force: true})
  const c = sh('chown', ['-R', `${user.uid}:${user.gid}`, dest], {stdio: 'inherit'})
  if (c.status !== 0) throw new Error(`chown -R ${dest} failed`)
  return dest
}

/** A node binary the user can execute: this one, or a copy in the user's home. */
function nodeForUser(user) {
  if (sh('runuser', ['-u', user.name, '--', process.execPath, '--version']).status === 0) return process.execPath
  const dir = join(user.home, '.ctr-ts-node', 'bin')
  mkdirSync(dir, {recursive: true})
  const copy = join(dir, 'node')
  cpSync(process.execPath, copy)
  chmodSync(copy, 0o755)
  sh('chown', ['-R', `${user.uid}:${user.gid}`, join(user.home, '.ctr-ts-node')])
  say(`${process.execPath} is not executable by ${user.name}: using a copy at ${copy}`)
  return copy
}

function isMountPoint(path) {
  try {
    return readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .some((l) => l.split(' ')[4] === path)
  } catch {
    return false
  }
}

/**
 * A small tmpfs owned by the test user, for the full-disk fault tests (test/e2e/faults-disk.test.ts):
 * its path goes to the tests as CTR_TS_TEST_SMALLFS. A fresh one each run.
 */
function mountSmallFilesystem(user) {
  const path = `/mnt/ctr-ts-smallfs-${checkoutTag}`
  try {
    mkdirSync(path, {recursive: true, mode: 0o755})
    if (isMountPoint(path)) sh('umount', ['-l', path])
    const r = sh('mount', ['-t', 'tmpfs', '-o', `size=48m,mode=0700,uid=${user.uid},gid=${user.gid}`, 'ctr-ts-smallfs', path])
    if (r.status !== 0) throw new Error((r.stderr || '').trim() || `mount exited ${r.status}`)
    return path
  } catch (err) {
    say(`warning: could not mount a small tmpfs at ${path} for the full-disk tests: ${err.message}`)
    return undefined
  }
}

function unmountSmallFilesystem(path) {
  if (path && isMountPoint(path)) sh('umount', ['-l', path])
}

async function asRoot() {
  installPackages()
  enableUserNamespaces()
  const user = ensureUser()
  ensureDevices()
  const smallFs = mountSmallFilesystem(user)
  const dir = copyRepo(user)
  const node = nodeForUser(user)
  const path = [dirname(node), ...(process.env.PATH || '').split(':').filter((p) => p && p !== dirname(node)), ...SYSTEM_DIRS]
  const env = {
    PATH: [...new Set(path)].join(':'),
    HOME: user.home,
    USER: user.name,
    LOGNAME: user.name,
    LANG: process.env.LANG || 'C.UTF-8',
  }
  for (const k of ['TERM', 'CI', 'GITHUB_ACTIONS', 'NO_COLOR', 'FORCE_COLOR', 'CTR_TS_TEST_VERBOSE', 'CTR_TS_TEST_SEED']) if (process.env[k]) env[k] = process.env[k]
  if (smallFs) env.CTR_TS_TEST_SMALLFS = smallFs
  say(`running the tests as ${user.name} (uid ${user.uid}) in ${dir}`)
  const envArgs = Object.entries(env).map(([k, v]) => `${k}=${v}`)
  const child = spawn('runuser', ['-u', user.name, '--', 'env', '-i', ...envArgs, node, join(dir, 'test', 'entry.mjs'), ...args], {
    cwd: dir,
    stdio: 'inherit',
  })
  const code = await exitCodeOf(child)
  unmountSmallFilesystem(smallFs)
  const results = join(dir, 'test-results')
  if (existsSync(results)) {
    rmSync(join(repo, 'test-results'), {recursive: true, force: true})
    cpSync(results, join(repo, 'test-results'), {recursive: true})
  }
  return code
}

// ---------------------------------------------------------------------------------------- user

function checkPrerequisites() {
  const problems = []
  const uid = process.getuid()
  const name = process.env.USER || sh('id', ['-un']).stdout.trim()
  const pkgFix = (pkg) => `sudo apt-get install -y ${pkg}   (or: sudo bash scripts/setup.sh)`
  for (const bin of ['newuidmap', 'newgidmap']) {
    const p = which(bin)
    if (!p) {
      problems.push([`${bin} not found`, pkgFix('uidmap')])
      continue
    }
    const st = statSync(p)
    const setuid = (st.mode & 0o4000) !== 0 && st.uid === 0
    const caps = !setuid && which('getcap') ? sh(which('getcap'), [p]).stdout : ''
    if (!setuid && !/cap_set[ug]id/.test(caps)) problems.push([`${p} is neither setuid root nor has cap_setuid/cap_setgid`, `sudo chmod u+s ${p}`])
  }
  for (const file of ['/etc/subuid', '/etc/subgid']) {
    const all = readRanges(file)
    const ranges = all.filter((r) => r.who === name || r.who === String(uid))
    if (!ranges.some((r) => r.count >= 65536)) {
      const start = Math.max(200000, ...all.map((r) => r.start + r.count))
      const flag = file === '/etc/subuid' ? 'subuids' : 'subgids'
      problems.push([`${file} has no range of at least 65536 ids for ${name}`, `sudo usermod --add-${flag} ${start}-${start + 65535} ${name}`])
    }
  }
  try {
    accessSync('/dev/fuse', constants.R_OK | constants.W_OK)
  } catch {
    problems.push(['/dev/fuse is missing or not readable+writable', 'sudo chmod 666 /dev/fuse   (inside a container: run it with --device /dev/fuse)'])
  }
  for (const [bin, pkg] of [
    ['fuse-overlayfs', 'fuse-overlayfs'],
    ['runc', 'runc'],
    ['docker-registry', 'docker-registry'],
    ['unshare', 'util-linux'],
    ['openssl', 'openssl'],
  ]) {
    if (!which(bin)) problems.push([`${bin} not found`, pkgFix(pkg)])
  }
  if (!existsSync('/bin/busybox') || !isStaticElf('/bin/busybox')) problems.push(['/bin/busybox is missing or not statically linked (test images are built from it)', pkgFix('busybox-static')])
  if (problems.length === 0) {
    const u = sh('unshare', ['--user', '--map-root-user', 'true'])
    if (u.status !== 0) {
      problems.push([
        `unprivileged user namespaces do not work: ${(u.stderr || '').trim()}`,
        'sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0 (Ubuntu) or kernel.unprivileged_userns_clone=1 (older Debian)',
      ])
    } else {
      const m = sh('unshare', ['--map-auto', '--map-root-user', 'true'])
      if (m.status !== 0) problems.push([`mapping the sub-uid range failed: ${(m.stderr || '').trim()}`, 'check /etc/subuid, /etc/subgid and newuidmap/newgidmap'])
    }
  }
  if (!existsSync(join(repo, 'dist', 'commands'))) problems.push(['dist/ is not built', 'npm run build'])
  if (!existsSync(join(repo, 'node_modules', 'vitest'))) problems.push(['node_modules is not installed', 'npm ci'])
  return problems
}

function exitCodeOf(child) {
  return new Promise((res) => {
    child.on('error', (err) => {
      console.error(`[test] ${err.message}`)
      res(1)
    })
    child.on('close', (code, signal) => res(code ?? (signal ? 1 : 0)))
  })
}

function summary(file) {
  let report
  try {
    report = JSON.parse(readFileSync(file, 'utf8'))
  } catch {
    return undefined
  }
  const passed = report.numPassedTests ?? 0
  let failed = report.numFailedTests ?? 0
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0)
  // a file that failed before any test ran (import error, failing beforeAll) counts as one failure
  for (const r of report.testResults ?? []) {
    if (r.status === 'failed' && !(r.assertionResults ?? []).some((a) => a.status === 'failed')) failed += 1
  }
  return `${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`
}

async function asUser() {
  const problems = checkPrerequisites()
  if (problems.length > 0) {
    console.error('ctr-ts tests cannot run: missing prerequisites')
    for (const [what, fix] of problems) console.error(`  - ${what}\n      fix: ${fix}`)
    console.error('(as root, `node test/entry.mjs` sets all of this up itself)')
    return 1
  }
  const results = join(repo, 'test-results')
  const jsonFile = join(results, 'vitest.json')
  mkdirSync(results, {recursive: true})
  rmSync(jsonFile, {force: true})
  const vitest = join(repo, 'node_modules', 'vitest', 'vitest.mjs')
  const child = spawn(process.execPath, [vitest, 'run', '--reporter=default', '--reporter=json', `--outputFile.json=${jsonFile}`, ...args], {
    cwd: repo,
    stdio: 'inherit',
  })
  const forward = (sig) => () => child.kill(sig)
  process.on('SIGINT', forward('SIGINT'))
  process.on('SIGTERM', forward('SIGTERM'))
  const code = await exitCodeOf(child)
  const line = summary(jsonFile)
  console.log('')
  if (line) console.log(line)
  else console.log(`0 passed, 1 failed`)
  return line ? code : code || 1
}

process.exitCode = process.getuid() === 0 ? await asRoot().catch((err) => (console.error(`[test] ${err.message}`), 1)) : await asUser()
