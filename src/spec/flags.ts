import {existsSync} from 'node:fs'
import {isAbsolute, normalize} from 'node:path'
import {UsageError} from '../errors.js'

/**
 * Pure parsing behind the `run`/`create` flags (-v, --tmpfs, --env-file, --memory, --cpus,
 * --stop-signal). Every function throws a UsageError naming the bad value.
 */

/** A `-v host:container[:opts]` bind mount. */
export interface BindMount {
  /** Absolute host path. */
  source: string
  /** Absolute path inside the container. */
  destination: string
  readOnly: boolean
  /** Mount propagation (rprivate when not given). */
  propagation?: Propagation
}

export type Propagation = 'private' | 'rprivate' | 'shared' | 'rshared' | 'slave' | 'rslave'
const PROPAGATIONS: readonly string[] = ['private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave']

/** A `--tmpfs /path[:opts]` mount. */
export interface TmpfsMount {
  destination: string
  /** Mount options, docker's defaults (noexec, nosuid, nodev) merged with the user's. */
  options: string[]
}

function containerPath(what: string, path: string, flag: string): string {
  if (!isAbsolute(path)) throw new UsageError(`invalid ${flag} "${what}": container path "${path}" must be absolute`)
  const n = normalize(path).replace(/\/+$/, '')
  if (n === '') throw new UsageError(`invalid ${flag} "${what}": the container path cannot be "/"`)
  return n
}

/**
 * Parses `-v HOST:CONTAINER[:OPTIONS]`. OPTIONS is a comma list of ro|rw, a propagation mode, and
 * z|Z (SELinux relabelling: accepted and ignored, there is no SELinux here). The host path must
 * be absolute and exist; named and anonymous volumes are not supported.
 */
export function parseVolume(spec: string, opts: {exists?: (path: string) => boolean} = {}): BindMount {
  const exists = opts.exists ?? existsSync
  const parts = spec.split(':')
  if (spec === '' || parts.some((p) => p === '')) throw new UsageError(`invalid volume specification "${spec}"`)
  if (parts.length === 1) {
    throw new UsageError(`invalid volume "${spec}": anonymous volumes are not supported, use -v /host/path:${spec}`)
  }
  if (parts.length > 3) throw new UsageError(`invalid volume specification "${spec}": too many colons`)
  const [host, ctr, options] = parts as [string, string, string | undefined]
  if (!isAbsolute(host)) {
    if (!host.includes('/') && !host.startsWith('.')) {
      throw new UsageError(`invalid volume "${spec}": named volumes are not supported, use an absolute host path`)
    }
    throw new UsageError(`invalid volume "${spec}": host path "${host}" must be absolute`)
  }
  const destination = containerPath(spec, ctr, 'volume')
  let readOnly = false
  let propagation: Propagation | undefined
  let modeSeen = false
  for (const o of options ? options.split(',') : []) {
    if (o === 'ro' || o === 'rw') {
      if (modeSeen) throw new UsageError(`invalid volume "${spec}": ro and rw given more than once`)
      modeSeen = true
      readOnly = o === 'ro'
    } else if (PROPAGATIONS.includes(o)) {
      if (propagation) throw new UsageError(`invalid volume "${spec}": more than one propagation mode`)
      propagation = o as Propagation
    } else if (o === 'z' || o === 'Z') {
      // SELinux relabelling: nothing to do without SELinux.
    } else {
      throw new UsageError(`invalid volume "${spec}": unknown option "${o}" (use ro, rw, z, Z or a propagation mode)`)
    }
  }
  const source = normalize(host).replace(/(.)\/+$/, '$1')
  if (!exists(source)) throw new UsageError(`invalid volume "${spec}": host path "${source}" does not exist`)
  return {source, destination, readOnly, ...(propagation ? {propagation} : {})}
}

const TMPFS_FLAGS = new Set([
  'ro', 'rw', 'exec', 'noexec', 'suid', 'nosuid', 'dev', 'nodev', 'sync', 'async', 'dirsync',
  'atime', 'noatime', 'diratime', 'nodiratime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime',
  'private', 'rprivate', 'shared', 'rshared', 'slave', 'rslave', 'tmpcopyup', 'notmpcopyup',
])
const TMPFS_VALUED = new Set(['size', 'mode', 'uid', 'gid', 'nr_inodes', 'nr_blocks', 'huge', 'mpol'])
const OPPOSITES: Record<string, string> = {
  ro: 'rw', rw: 'ro', exec: 'noexec', noexec: 'exec', suid: 'nosuid', nosuid: 'suid', dev: 'nodev', nodev: 'dev',
}

/** Parses `--tmpfs /path[:opts]` (docker's defaults noexec,nosuid,nodev; the user's options win). */
export function parseTmpfs(spec: string): TmpfsMount {
  const colon = spec.indexOf(':')
  const path = colon < 0 ? spec : spec.slice(0, colon)
  const optText = colon < 0 ? '' : spec.slice(colon + 1)
  if (path === '') throw new UsageError(`invalid --tmpfs "${spec}": missing container path`)
  const destination = containerPath(spec, path, '--tmpfs')
  const user: string[] = []
  for (const o of optText === '' ? [] : optText.split(',')) {
    const eq = o.indexOf('=')
    if (eq >= 0) {
      const key = o.slice(0, eq)
      const value = o.slice(eq + 1)
      if (!TMPFS_VALUED.has(key) || value === '') throw new UsageError(`invalid --tmpfs "${spec}": unknown option "${o}"`)
      if (key === 'size' && !/^\d+[kmgKMG%]?$/.test(value)) throw new UsageError(`invalid --tmpfs "${spec}": bad size "${value}"`)
      if (key === 'mode' && !/^[0-7]{1,4}$/.test(value)) throw new UsageError(`invalid --tmpfs "${spec}": bad mode "${value}" (octal)`)
      if ((key === 'uid' || key === 'gid' || key === 'nr_inodes' || key === 'nr_blocks') && !/^\d+[kmgKMG]?$/.test(value)) {
        throw new UsageError(`invalid --tmpfs "${spec}": bad ${key} "${value}"`)
      }
    } else if (!TMPFS_FLAGS.has(o)) {
      throw new UsageError(`invalid --tmpfs "${spec}": unknown option "${o}"`)
    }
    user.push(o)
  }
  const defaults = ['noexec', 'nosuid', 'nodev'].filter((d) => !user.includes(d) && !user.includes(OPPOSITES[d]!))
  return {destination, options: [...defaults, ...user]}
}

/**
 * Parses an --env-file's text like docker: one `KEY=VALUE` per line, taken literally (no quotes,
 * no expansion); blank lines and lines starting with `#` are skipped; a bare `KEY` is kept as is
 * (generateSpec takes its value from the host environment, or drops it).
 */
export function parseEnvFile(text: string): string[] {
  const out: string[] = []
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  lines.forEach((raw, i) => {
    const line = raw.replace(/^\s+/, '')
    if (line === '' || line.startsWith('#')) return
    const eq = line.indexOf('=')
    const key = eq < 0 ? line.replace(/\s+$/, '') : line.slice(0, eq)
    if (key === '') throw new UsageError(`invalid env file line ${i + 1}: no variable name`)
    if (/\s/.test(key)) throw new UsageError(`invalid env file line ${i + 1}: variable "${key}" contains whitespaces`)
    out.push(eq < 0 ? key : key + line.slice(eq))
  })
  return out
}

const UNITS: Record<string, number> = {'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5}

/** `512m`, `1g`, `1.5G`, `100MiB`, `1048576` (bytes) → bytes, like docker's RAMInBytes. */
export function parseMemory(spec: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp]?)(?:i?b)?$/i.exec(spec.trim())
  if (!m) throw new UsageError(`invalid memory size "${spec}": use a number with an optional unit b, k, m, g (e.g. 512m)`)
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!)
  if (!Number.isSafeInteger(bytes) || bytes <= 0) throw new UsageError(`invalid memory size "${spec}": must be greater than 0`)
  return bytes
}

/** `--memory`: bytes, or undefined for 0 (docker: 0 means no limit). */
export function parseMemoryLimit(spec: string): number | undefined {
  if (/^0+(\.0*)? ?[kmgtp]?(i?b)?$/i.test(spec.trim())) return undefined
  return parseMemory(spec)
}

/** `--cpus 1.5` → 1.5 (a positive decimal with at most 9 decimals, like docker's NanoCPUs). */
export function parseCpus(spec: string): number {
  if (!/^(\d+(\.\d*)?|\.\d+)$/.test(spec.trim())) throw new UsageError(`invalid --cpus "${spec}": use a decimal number such as 1.5`)
  const n = Number(spec)
  if (!(n > 0)) throw new UsageError(`invalid --cpus "${spec}": must be greater than 0`)
  if (Math.round(n * 1e9) / 1e9 !== n) throw new UsageError(`invalid --cpus "${spec}": too many decimal places`)
  if (n > 1024) throw new UsageError(`invalid --cpus "${spec}": too large`)
  return n
}

/** Linux signal numbers (the generic table used by x86_64 and arm64). */
export const SIGNALS: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31, UNUSED: 31, RTMIN: 34, RTMAX: 64,
}
const SIGRTMIN = 34
const SIGRTMAX = 64

/** `SIGTERM`, `term`, `15`, `SIGRTMIN+3`, `RTMAX-1` → the signal number (1..64). */
export function parseSignal(spec: string): number {
  const s = spec.trim()
  if (/^\d+$/.test(s)) {
    const n = Number(s)
    if (n < 1 || n > SIGRTMAX) throw new UsageError(`invalid signal "${spec}": numbers go from 1 to ${SIGRTMAX}`)
    return n
  }
  const name = s.toUpperCase().replace(/^SIG/, '')
  const rt = /^RT(MIN|MAX)([+-])(\d+)$/.exec(name)
  if (rt) {
    const base = rt[1] === 'MIN' ? SIGRTMIN : SIGRTMAX
    const n = rt[2] === '+' ? base + Number(rt[3]) : base - Number(rt[3])
    if (n < SIGRTMIN || n > SIGRTMAX) throw new UsageError(`invalid signal "${spec}": outside SIGRTMIN..SIGRTMAX`)
    return n
  }
  const n = SIGNALS[name]
  if (n === undefined) throw new UsageError(`invalid signal "${spec}": unknown signal name`)
  return n
}

/** The canonical name of a signal number: 15 → SIGTERM, 36 → SIGRTMIN+2. */
export function signalName(n: number): string {
  if (n >= SIGRTMIN && n <= SIGRTMAX) {
    if (n === SIGRTMIN) return 'SIGRTMIN'
    if (n === SIGRTMAX) return 'SIGRTMAX'
    return n - SIGRTMIN <= SIGRTMAX - n ? `SIGRTMIN+${n - SIGRTMIN}` : `SIGRTMAX-${SIGRTMAX - n}`
  }
  const preferred = ['HUP', 'INT', 'QUIT', 'ILL', 'TRAP', 'ABRT', 'BUS', 'FPE', 'KILL', 'USR1', 'SEGV', 'USR2', 'PIPE', 'ALRM',
    'TERM', 'STKFLT', 'CHLD', 'CONT', 'STOP', 'TSTP', 'TTIN', 'TTOU', 'URG', 'XCPU', 'XFSZ', 'VTALRM', 'PROF', 'WINCH', 'IO', 'PWR', 'SYS']
  const name = preferred[n - 1]
  if (!name) throw new UsageError(`invalid signal number ${n}`)
  return `SIG${name}`
}
