#!/usr/bin/env node
// CLI start-up: the wall time of the commands that touch no container (`version`, `ps`,
// `images`, `--help`, in a fresh empty store) next to Node's own start-up (`node -e 0`, the
// floor every Node CLI pays) and `podman version` when podman is installed. Interleaved runs
// (node, version, ps, ..., node, version, ...) after one warm-up each, so a drift in machine load
// affects every command alike; medians. Ratios are ctr-ts / `node -e 0` (goal: 1.5x at most)
// and ctr-ts version / podman version.
//
//   node bench/startup.mjs [--runs 20] [--quick] [--no-peers]
import {ctrStore} from './lib/ctr.mjs'
import {timed} from './lib/exec.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {podmanStore} from './lib/podman.mjs'
import {log, row, stats} from './lib/report.mjs'

export const COMMANDS = [
  ['version', ['version']],
  ['ps', ['ps']],
  ['images', ['images']],
  ['--help', ['--help']],
]

const must = (what) => (r) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r.ms
}

/** `fns` ({name: () => ms}) `runs` times each, interleaved, after one untimed warm-up round. */
async function timeInterleaved(runs, fns) {
  const samples = Object.fromEntries(Object.keys(fns).map((k) => [k, []]))
  for (let i = -1; i < runs; i++) {
    for (const [name, fn] of Object.entries(fns)) {
      const ms = await fn()
      if (i >= 0) samples[name].push(ms)
    }
  }
  return Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
}

/** The phase table `CTR_TS_TRACE=1 ctr-ts version` prints on stderr (one run, for the record). */
async function traceOf(ctr, args) {
  const r = await timed(process.execPath, [ctr.cli, ...args], {env: {...ctr.env, CTR_TS_TRACE: '1'}})
  return r.stderr.trim().split('\n')
}

export async function benchStartup(options = {}) {
  const runs = options.runs ?? (options.quick ? 5 : 20)
  const ctr = await ctrStore()
  const podman = options.peers === false ? undefined : await podmanStore()
  const rows = []
  const errors = []
  const details = {runs}
  const notes = [
    `median wall time from spawn to exit of ${runs} interleaved runs; ps and images in a fresh, empty store`,
    '`node -e 0` is the floor: the same Node binary starting and exiting; the goal is ctr-ts at most 1.5x of it',
  ]
  try {
    const fns = {node: async () => must('node -e 0')(await timed(process.execPath, ['-e', '0']))}
    for (const [name, args] of COMMANDS) fns[name] = async () => must(`ctr-ts ${args.join(' ')}`)(await ctr.run(args))
    if (podman) fns['podman version'] = async () => must('podman version')(await podman.run(['version']))
    log(`startup: ${Object.keys(fns).join(', ')}, ${runs} runs each`)
    details.times = await timeInterleaved(runs, fns)
    const node = details.times.node.median
    for (const [name, args] of COMMANDS) {
      rows.push(row('startup', `ctr-ts ${args.join(' ')} (vs node -e 0)`, 'ms', details.times[name].median, node, 'node -e 0'))
    }
    rows.push(row('startup', 'ctr-ts version (vs podman version)', 'ms', details.times.version.median, details.times['podman version']?.median, podman && 'podman'))
    details.traceVersion = await traceOf(ctr, ['version'])
    details.tracePs = await traceOf(ctr, ['ps'])
  } catch (err) {
    errors.push(err.message)
    log(`startup failed: ${err.message}`)
  } finally {
    await ctr.cleanup()
    await podman?.cleanup()
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('startup', import.meta.url, benchStartup)
