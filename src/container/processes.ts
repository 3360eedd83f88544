/**
 * A running container's processes as the host sees them (top, stats): every process in the
 * container's pid namespace, and figures read from /proc. Rootless on cgroup v1 a container has
 * no cgroup of its own, so nothing here reads cgroups: a figure /proc cannot give is undefined
 * (shown as `--`), never guessed.
 */
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {execFile} from 'node:child_process'
import type {Context} from '../context.js'
import {ConflictError, UsageError} from '../errors.js'
import type {ContainerRecord} from './record.js'
import {containerStatus} from './status.js'

function allPids(): number[] {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .map(Number)
}

function ppidOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
  } catch {
    return undefined
  }
}

/** The host pids of the processes in the container (its pid namespace: init, its children and exec'd ones). */
export function containerPids(ctx: Context, rec: ContainerRecord): number[] {
  const s = containerStatus(ctx, rec)
  if (!s.running || !s.containerPid) throw new ConflictError(`container ${rec.name} is not running`)
  const init = s.containerPid
  let ns: string | undefined
  try {
    ns = readlinkSync(`/proc/${init}/ns/pid`)
  } catch {
    ns = undefined
  }
  const pids = allPids()
  if (ns) {
    const same = pids.filter((p) => {
      try {
        return readlinkSync(`/proc/${p}/ns/pid`) === ns
      } catch {
        return false
      }
    })
    if (same.includes(init)) return same
  }
  // the namespace links are not readable: init and its descendants
  const children = new Map<number, number[]>()
  for (const p of pids) {
    const pp = ppidOf(p)
    if (pp !== undefined) children.set(pp, [...(children.get(pp) ?? []), p])
  }
  const out: number[] = []
  const queue = [init]
  while (queue.length > 0) {
    const p = queue.shift()!
    out.push(p)
    queue.push(...(children.get(p) ?? []))
  }
  return out.sort((a, b) => a - b)
}

/**
 * docker top: the host's `ps` with the given options (default `-ef`), only the rows of the
 * container's processes (the PID column decides), header first.
 */
export async function topProcesses(ctx: Context, rec: ContainerRecord, psArgs: string[]): Promise<{titles: string[]; processes: string[][]}> {
  const pids = new Set(containerPids(ctx, rec))
  const args = psArgs.length > 0 ? psArgs : ['-ef']
  const out = await new Promise<string>((resolve, reject) =>
    execFile('ps', args, {maxBuffer: 64 << 20}, (err, stdout, stderr) => {
      if (err) reject(new UsageError(`ps ${args.join(' ')} failed: ${String(stderr).trim().split('\n')[0] || err.message}`))
      else resolve(String(stdout))
    }),
  )
  const lines = out.split('\n').filter((l) => l.trim())
  const titles = (lines[0] ?? '').trim().split(/\s+/)
  const pidCol = titles.indexOf('PID')
  if (pidCol === -1) throw new UsageError(`couldn't find PID field in ps output (ps ${args.join(' ')})`)
  const processes: string[][] = []
  for (const line of lines.slice(1)) {
    const fields = line.trim().split(/\s+/)
    if (!pids.has(Number(fields[pidCol]))) continue
    // the last column (the command) keeps its spaces, as docker does
    processes.push([...fields.slice(0, titles.length - 1), fields.slice(titles.length - 1).join(' ')])
  }
  return {titles, processes}
}

/** One sample of a set of processes. */
export interface ProcSample {
  /** utime + stime of the live processes, in clock ticks. */
  cpuTicks: number
  /** Sum of resident set sizes, bytes. */
  rssBytes: number
  /** Bytes read from and written to storage (/proc/PID/io), undefined when not readable. */
  blockRead?: number
  blockWrite?: number
  pids: number
}

const PAGE = 4096

export function sampleProcesses(pids: number[]): ProcSample {
  let cpuTicks = 0
  let rssBytes = 0
  let blockRead: number | undefined = 0
  let blockWrite: number | undefined = 0
  let count = 0
  for (const pid of pids) {
    let stat: string
    try {
      stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    count++
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields after the command: state(3) ppid ... utime(14) stime(15) ... rss(24)
    cpuTicks += Number(f[11]) + Number(f[12])
    rssBytes += Number(f[21]) * PAGE
    try {
      const io = readFileSync(`/proc/${pid}/io`, 'utf8')
      const r = /^read_bytes: (\d+)$/m.exec(io)
      const w = /^write_bytes: (\d+)$/m.exec(io)
      if (!r || !w) throw new Error('no io fields')
      if (blockRead !== undefined) blockRead += Number(r[1])
      if (blockWrite !== undefined) blockWrite += Number(w[1])
    } catch {
      blockRead = blockWrite = undefined
    }
  }
  return {cpuTicks, rssBytes, blockRead, blockWrite, pids: count}
}

/** Bytes received and sent on the container's interfaces other than lo, from its network namespace. */
export function networkBytes(pid: number): {rx: number; tx: number} | undefined {
  try {
    let rx = 0
    let tx = 0
    for (const line of readFileSync(`/proc/${pid}/net/dev`, 'utf8').split('\n').slice(2)) {
      const m = /^\s*([^:]+):\s*(.*)$/.exec(line)
      if (!m || m[1] === 'lo') continue
      const cols = m[2]!.trim().split(/\s+/).map(Number)
      rx += cols[0] ?? 0
      tx += cols[8] ?? 0
    }
    return {rx, tx}
  } catch {
    return undefined
  }
}
