// /proc helpers: resident memory of a process and a snapshot of the processes around.
import {readFileSync, readdirSync, readlinkSync} from 'node:fs'

const readOr = (path, fallback) => {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

/**
 * Memory of one process in KiB: VmRSS from /proc/PID/status, and PSS (proportional set size:
 * shared pages divided among their users) from /proc/PID/smaps_rollup when readable.
 */
export function memoryOf(pid) {
  const status = readOr(`/proc/${pid}/status`, '')
  const rss = /^VmRSS:\s+(\d+) kB/m.exec(status)
  const rollup = readOr(`/proc/${pid}/smaps_rollup`, '')
  const pss = /^Pss:\s+(\d+) kB/m.exec(rollup)
  return {rssKiB: rss ? Number(rss[1]) : null, pssKiB: pss ? Number(pss[1]) : null}
}

/** One process: pid, ppid, comm, argv, start time (clock ticks since boot), real uid, pid namespace. */
export function procInfo(pid) {
  const stat = readOr(`/proc/${pid}/stat`, '')
  if (!stat) return undefined
  const close = stat.lastIndexOf(')')
  const comm = stat.slice(stat.indexOf('(') + 1, close)
  const fields = stat.slice(close + 2).split(' ')
  const status = readOr(`/proc/${pid}/status`, '')
  const uid = /^Uid:\s+(\d+)/m.exec(status)
  let pidns = ''
  try {
    pidns = readlinkSync(`/proc/${pid}/ns/pid`)
  } catch {
    // not ours to look at
  }
  return {
    pid,
    ppid: Number(fields[1]),
    comm,
    argv: readOr(`/proc/${pid}/cmdline`, '').split('\0').filter(Boolean),
    startTime: fields[19],
    uid: uid ? Number(uid[1]) : -1,
    pidns,
  }
}

/** Every process visible in /proc, keyed by "pid:starttime" (stable across pid reuse). */
export function snapshot() {
  const out = new Map()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    const p = procInfo(Number(name))
    if (p) out.set(`${p.pid}:${p.startTime}`, p)
  }
  return out
}

/** Processes in `after` and not in `before`. */
export function newProcesses(before, after) {
  return [...after.entries()].filter(([k]) => !before.has(k)).map(([, p]) => p)
}

export function ownPidNamespace() {
  return readlinkSync('/proc/self/ns/pid')
}

/** True when the process's argv or environment mentions one of `markers` (e.g. a private store path). */
export function mentions(p, markers) {
  const text = p.argv.join('\0') + '\0' + readOr(`/proc/${p.pid}/environ`, '')
  return markers.some((m) => text.includes(m))
}

/**
 * The processes a container added outside its own pid namespace (shim, fuse-overlayfs,
 * slirp4netns, port proxies, conmon...), with their memory. Only processes mentioning one of
 * `markers` (the private store / runtime directories of this bench) in their argv or
 * environment count, so whatever else runs on the machine meanwhile is ignored. Transient
 * processes are gone by the time this is called (the caller waits for things to settle).
 */
export function overheadProcesses(before, after, markers) {
  const mine = ownPidNamespace()
  return newProcesses(before, after)
    .filter((p) => p.pidns === mine && mentions(p, markers))
    .map((p) => ({pid: p.pid, comm: p.comm, argv0: p.argv[0] ?? p.comm, ...memoryOf(p.pid)}))
    .filter((p) => p.rssKiB !== null)
}

export function sumMemory(procs) {
  const rss = procs.reduce((s, p) => s + (p.rssKiB ?? 0), 0)
  const pss = procs.every((p) => p.pssKiB !== null) ? procs.reduce((s, p) => s + p.pssKiB, 0) : null
  return {rssKiB: rss, pssKiB: pss}
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (then returns undefined). */
export async function waitFor(fn, timeoutMs = 10_000, everyMs = 50) {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const v = await fn()
    if (v) return v
    if (Date.now() > deadline) return undefined
    await sleep(everyMs)
  }
}
