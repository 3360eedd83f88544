/**
 * What a store and runtime directory leave on the machine, counted so a test can compare before
 * and after: processes, mounts and open file descriptors that mention them (of any process this
 * user can see: the shims, fuse-overlayfs, slirp4netns, port proxies), and the entries of every
 * directory ctr-ts keeps per object.
 */
import {readdirSync, readFileSync, readlinkSync} from 'node:fs'
import {join} from 'node:path'
import {ctr} from './cli.js'
import {entries} from './store.js'

export interface Footprint {
  processes: string[]
  mounts: string[]
  fds: string[]
  /** relative directory → its entries */
  dirs: Record<string, string[]>
}

function pids(): string[] {
  return readdirSync('/proc').filter((p) => /^\d+$/.test(p) && Number(p) !== process.pid)
}

function cmdline(pid: string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
  } catch {
    return ''
  }
}

/** Everything of `root` (the store) and `runRoot` (the runtime directory) on the machine now. */
export function footprint(root: string, runRoot: string): Footprint {
  const mentions = (s: string) => s.includes(root) || s.includes(runRoot)
  const processes: string[] = []
  const fds: string[] = []
  for (const pid of pids()) {
    const cmd = cmdline(pid)
    if (cmd.includes('vitest')) continue
    if (mentions(cmd)) processes.push(`${pid} ${cmd}`)
    let fdNames: string[] = []
    try {
      fdNames = readdirSync(`/proc/${pid}/fd`)
    } catch {
      continue // not ours, or gone
    }
    for (const fd of fdNames) {
      try {
        const target = readlinkSync(`/proc/${pid}/fd/${fd}`)
        if (mentions(target)) fds.push(`${pid}:${fd} ${target} (${cmd.slice(0, 80)})`)
      } catch {
        // closed meanwhile
      }
    }
  }
  let mounts: string[] = []
  try {
    mounts = readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .filter((l) => mentions(l))
  } catch {
    // no procfs
  }
  const dirs: Record<string, string[]> = {}
  for (const d of ['containers', 'names', 'images', 'layers', 'ingest', 'blobs/sha256', 'tmp']) dirs[d] = entries(join(root, d))
  dirs.locks = entries(join(root, 'locks'))
  for (const d of ['c', 'runc']) dirs[`run/${d}`] = entries(join(runRoot, d))
  return {processes, mounts, fds, dirs}
}

/** Containers as `ps -a` and `inspect` report them (the name without docker's leading slash). */
export interface PsEntry {
  Id: string
  Names: string[]
  State: string
  Pid: number
}

export async function psAll(env: Record<string, string>): Promise<PsEntry[]> {
  const r = await ctr(['ps', '-a', '-q', '--no-trunc'], {env})
  if (r.exitCode !== 0) throw new Error(`ps -a failed: ${r.stderr}`)
  const ids = r.stdout.split('\n').filter(Boolean)
  if (ids.length === 0) return []
  // a container removed meanwhile is missing from inspect's array (and inspect exits 1)
  const i = await ctr(['inspect', '--type', 'container', ...ids], {env})
  const docs = JSON.parse(i.stdout || '[]') as Array<{Id: string; Name: string; State: {Status: string; Pid: number}}>
  return docs.map((d) => ({Id: d.Id, Names: [d.Name.replace(/^\//, '')], State: d.State.Status, Pid: d.State.Pid}))
}

/** Alive and not a zombie. */
export function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return !/^[ZX]$/.test(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0]!)
  } catch {
    return false
  }
}

/**
 * `ps` tells the truth: a container it calls running has a live process; an exited one has no
 * process left (nothing whose command line names the container's directory).
 */
export function untruthful(ps: PsEntry[], root: string): string[] {
  const wrong: string[] = []
  const procs = pids().map((p) => ({pid: p, cmd: cmdline(p)}))
  for (const c of ps) {
    const dir = join(root, 'containers', c.Id)
    const left = procs.filter((p) => p.cmd.includes(dir) && !p.cmd.includes('vitest'))
    if (c.State === 'running' && !(c.Pid > 0 && alive(c.Pid))) wrong.push(`${c.Id.slice(0, 12)} is "running" but its process ${c.Pid} is not`)
    // "created" may have a shim waiting for START (a run killed before it started the container)
    if (c.State === 'exited' && left.length > 0) wrong.push(`${c.Id.slice(0, 12)} is "${c.State}" but has processes: ${left.map((p) => `${p.pid} ${p.cmd}`).join('; ')}`)
  }
  return wrong
}

/** A small seeded PRNG (mulberry32): the same seed gives the same kill points. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6d2b79f5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}
