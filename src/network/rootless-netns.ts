import {randomBytes} from 'node:crypto'
import {closeSync, openSync, readFileSync} from 'node:fs'
import {mkdir, readdir, rm, writeFile} from 'node:fs/promises'
import {createConnection, type Socket} from 'node:net'
import {join} from 'node:path'
import type {Readable, Writable} from 'node:stream'
import {PrerequisiteError, RuntimeError} from '../errors.js'
import {which} from '../runtime/binaries.js'
import {userNsArgv} from '../userns/exec.js'
import {helperPath} from '../userns/helpers.js'
import type {UserNsMapping} from '../userns/idmap.js'
import {SLIRP} from './etc-files.js'
import {killQuietly, readUntil, spawnDetached} from './proxy.js'
import {startSlirp} from './slirp.js'

/**
 * The per-user rootless network namespace of user-defined networks (podman's "rootless netns"):
 * one holder process (shim/ctr-ts-netns.c) in its own user namespace (the user's subordinate
 * ranges, as each container's) and network namespace, with slirp4netns on tap0 for the outside.
 * Bridges, veths and firewall rules are ctr-ts-netattach's, names are aardvark-dns'; both run there.
 *
 * Each container on a network holds one connection to the holder, from start to exit (its port
 * proxy keeps it as fd 3). When the last one closes, the holder exits and takes the namespaces,
 * slirp4netns and aardvark-dns with it.
 */
export interface Holder {
  pid: number
  /** The network configuration directory (aardvark-dns' files live under it). */
  configDir: string
  /** A process holding a new network namespace for this container (it joins /proc/PID/ns/net). */
  keeperPid: number
  /** This container's connection: hand it to a process that lives as long as the container. */
  connection: Socket
}

export function netnsPaths(runNetns: string) {
  return {
    dir: runNetns,
    socket: join(runNetns, 'holder.sock'),
    log: join(runNetns, 'holder.log'),
    slirpLog: join(runNetns, 'slirp4netns.log'),
    slirpApi: join(runNetns, 'slirp.sock'),
    resolvConf: join(runNetns, 'resolv.conf'),
  }
}

export interface HolderOptions {
  /** The run layout's netns/ directory. */
  dir: string
  mapping: UserNsMapping
  containerId: string
}

/** Connects to the holder (starting it when there is none) on behalf of one container. */
export async function connectHolder(o: HolderOptions): Promise<Holder> {
  const paths = netnsPaths(o.dir)
  for (let attempt = 0; attempt < 5; attempt++) {
    const got = await hello(paths.socket, o.containerId)
    if (got.ok) return got.holder
    if (got.why === 'closing') {
      // the holder is exiting: its socket goes away in a moment
      await new Promise((r) => setTimeout(r, 50))
      continue
    }
    await startHolder(o, paths)
  }
  throw new RuntimeError('cannot reach the rootless network namespace holder (ctr-ts-netns): see ' + paths.log)
}

type HelloResult = {ok: true; holder: Holder} | {ok: false; why: 'absent' | 'closing'}

function hello(socketPath: string, id: string): Promise<HelloResult> {
  return new Promise((resolve) => {
    const sock = createConnection(socketPath)
    let text = ''
    let done = false
    const finish = (r: HelloResult) => {
      if (done) return
      done = true
      sock.off('data', onData)
      if (!r.ok) sock.destroy()
      else sock.pause()
      resolve(r)
    }
    const onData = (chunk: Buffer) => {
      text += chunk.toString()
      const m = /^ok (\d+) (\S+) (\d+)\n/.exec(text)
      if (m) finish({ok: true, holder: {pid: Number(m[1]), configDir: m[2]!, keeperPid: Number(m[3]), connection: sock}})
      else if (text.includes('\n')) finish({ok: false, why: 'closing'})
    }
    sock.on('connect', () => sock.write(`hello ${id}\n`))
    sock.on('data', onData)
    sock.on('error', (err: NodeJS.ErrnoException) => finish({ok: false, why: err.code === 'ENOENT' || err.code === 'ECONNREFUSED' ? 'absent' : 'closing'}))
    sock.on('close', () => finish({ok: false, why: 'closing'}))
  })
}

function hostSearchLines(): string[] {
  try {
    return readFileSync('/etc/resolv.conf', 'utf8')
      .split('\n')
      .filter((l) => /^(search|options)\s/.test(l.trim()))
  } catch {
    return []
  }
}

/** Whether `pid` runs a program whose command line contains `needle`. */
function runs(pid: number, needle: string): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').includes(needle)
  } catch {
    return false
  }
}

function pidIn(file: string): number {
  try {
    const pid = Number(readFileSync(file, 'utf8').trim())
    return Number.isInteger(pid) && pid > 1 ? pid : 0
  } catch {
    return 0
  }
}

/**
 * The running holder (its pid and configuration directory), without connecting to it: for
 * `network connect`/`disconnect` of a running container, which holds its own connection already.
 */
export async function liveHolder(dir: string): Promise<{pid: number; configDir: string} | undefined> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return undefined
  }
  for (const name of names.filter((n) => n.startsWith('cfg-'))) {
    const configDir = join(dir, name)
    const pid = pidIn(join(configDir, 'holder.pid'))
    if (pid !== 0 && runs(pid, configDir)) return {pid, configDir}
  }
  return undefined
}

/**
 * What a killed holder left: its configuration directory and the aardvark-dns it started
 * (which keeps the dead holder's network namespace alive). A live holder's directory is kept.
 */
async function removeDeadHolders(dir: string): Promise<void> {
  let names: string[]
  try {
    names = await readdir(dir)
  } catch {
    return
  }
  for (const name of names.filter((n) => n.startsWith('cfg-'))) {
    const cfg = join(dir, name)
    const holder = pidIn(join(cfg, 'holder.pid'))
    if (holder === 0 || runs(holder, cfg)) continue
    const aardvark = pidIn(join(cfg, 'aardvark-dns', 'aardvark.pid'))
    if (aardvark && runs(aardvark, cfg)) killQuietly(aardvark)
    await rm(cfg, {recursive: true, force: true})
  }
}

/**
 * Starts a holder: it makes its namespaces and says `netns`; slirp4netns is attached (its exit fd
 * the other end of the holder's fd 3); then the holder listens and says `ready` (or `busy` when
 * another CLI's holder won the race: it exits, and we connect to the winner).
 */
async function startHolder(o: HolderOptions, paths: ReturnType<typeof netnsPaths>): Promise<void> {
  const slirp4netns = which('slirp4netns')
  if (!slirp4netns) throw new PrerequisiteError('slirp4netns not found: install it (Debian/Ubuntu: apt install slirp4netns)')
  const nsenter = which('nsenter')
  if (!nsenter) throw new PrerequisiteError('nsenter not found: install util-linux')
  await mkdir(paths.dir, {recursive: true, mode: 0o700})
  await removeDeadHolders(paths.dir)
  // aardvark-dns forwards other names to slirp4netns' DNS, which reaches the host's resolvers
  await writeFile(paths.resolvConf, [`nameserver ${SLIRP.dns}`, ...hostSearchLines()].join('\n') + '\n', {mode: 0o644})
  const configDir = join(paths.dir, `cfg-${randomBytes(6).toString('hex')}`)
  const {file, args} = userNsArgv(o.mapping, [helperPath('ctr-ts-netns'), '--socket', paths.socket, '--config-dir', configDir, '--resolv-conf', paths.resolvConf], {mount: true})
  const log = openSync(paths.log, 'a', 0o600)
  const slirpLog = openSync(paths.slirpLog, 'w', 0o600)
  const child = spawnDetached(file, args, ['pipe', 'pipe', log, 'pipe'])
  closeSync(log)
  const pid = child.pid
  const stdin = child.stdin as Writable | null
  const stdout = child.stdout as Readable | null
  const anchor = child.stdio[3] as Socket | null
  try {
    if (pid === undefined || !stdin || !stdout || !anchor) throw new RuntimeError(`cannot start ${file}`)
    await readUntil(stdout, (t) => (t.includes('netns\n') ? true : undefined), 10_000, 'the network namespace holder')
    await startSlirp({nsenter, slirp4netns, shimPid: pid, containerPid: pid, apiSocket: paths.slirpApi, allowHostLoopback: false, exitFd: anchor, logFd: slirpLog})
    stdin.end('g')
    await readUntil(stdout, (t) => (t.includes('ready\n') || t.includes('busy\n') ? true : undefined), 10_000, 'the network namespace holder')
    child.unref()
  } catch (err) {
    if (pid !== undefined) killQuietly(pid)
    throw err
  } finally {
    closeSync(slirpLog)
    stdout?.destroy()
    stdin?.destroy()
    anchor?.destroy()
  }
}
