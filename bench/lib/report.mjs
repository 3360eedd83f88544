// Statistics, the summary table and the JSON results (bench/results/, or $CTR_TS_BENCH_OUT).
import {execFileSync} from 'node:child_process'
import {accessSync, constants, mkdirSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, release, tmpdir} from 'node:os'
import {join} from 'node:path'
import {BENCH, REPO} from './harness.mjs'
import {which} from './exec.mjs'

export function median(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x)).sort((a, b) => a - b)
  if (v.length === 0) return null
  const mid = Math.floor(v.length / 2)
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2
}

/** {median, min, max, runs} of a list of samples (rounded to 0.1). */
export function stats(values) {
  const v = values.filter((x) => typeof x === 'number' && Number.isFinite(x))
  const r = (x) => (x === null ? null : Math.round(x * 10) / 10)
  return {median: r(median(v)), min: r(v.length ? Math.min(...v) : null), max: r(v.length ? Math.max(...v) : null), runs: v.length}
}

/** ctr-ts value / peer value, 2 decimals; null when either is missing. */
export function ratio(ours, theirs) {
  if (typeof ours !== 'number' || typeof theirs !== 'number' || theirs === 0) return null
  return Math.round((ours / theirs) * 100) / 100
}

const fmtNumber = (v, unit) => {
  if (v === null || v === undefined) return 'n/a'
  switch (unit) {
    case 'ms':
      return `${v.toFixed(0)} ms`
    case 'KiB':
      return v >= 10240 ? `${(v / 1024).toFixed(1)} MiB` : `${v.toFixed(0)} KiB`
    case 'MiB/s':
      return `${v.toFixed(0)} MiB/s`
    default:
      return `${v} ${unit}`
  }
}

/**
 * A summary row: one metric, ctr-ts's value, the peer's value and the ratio ctr-ts/peer.
 * `better`: 'lower' (times, memory) or 'higher' (throughput), to say which way is good.
 */
export function row(bench, metric, unit, ctr, peer, peerName, better = 'lower') {
  return {bench, metric, unit, ctrTs: ctr ?? null, peer: peer ?? null, peerName: peerName ?? null, ratio: ratio(ctr, peer), better}
}

export function formatTable(rows) {
  const head = ['bench', 'metric', 'ctr-ts', 'peer', 'ratio ctr-ts/peer']
  const body = rows.map((r) => [
    r.bench,
    r.metric,
    fmtNumber(r.ctrTs, r.unit),
    r.peerName ? `${fmtNumber(r.peer, r.unit)} (${r.peerName})` : '',
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}x (${r.better} is better)`,
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

function version(cmd, args = ['--version']) {
  const bin = which(cmd)
  if (!bin) return null
  try {
    return execFileSync(bin, args, {encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe']}).split('\n')[0].trim()
  } catch {
    return null
  }
}

export function machineInfo() {
  let commit = null
  try {
    commit = execFileSync('git', ['-c', `safe.directory=${REPO}`, '-C', REPO, 'describe', '--always', '--dirty'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch {
    // not a checkout, or not readable
  }
  return {
    date: new Date().toISOString(),
    commit,
    node: process.version,
    kernel: release(),
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    /** 1/5/15-minute load average at the end: other work on the machine skews timings. */
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    uid: process.getuid?.(),
    runc: version('runc'),
    podman: version('podman'),
    skopeo: version('skopeo'),
    fuseOverlayfs: version('fuse-overlayfs'),
    slirp4netns: version('slirp4netns'),
  }
}

/** $CTR_TS_BENCH_OUT, else bench/results, else (read-only checkout) a private directory in /tmp. */
export function resultsDir() {
  if (process.env.CTR_TS_BENCH_OUT) return process.env.CTR_TS_BENCH_OUT
  const inRepo = join(BENCH, 'results')
  try {
    mkdirSync(inRepo, {recursive: true})
    accessSync(inRepo, constants.W_OK)
    return inRepo
  } catch {
    return join(tmpdir(), `ctr-ts-bench-results-${process.getuid?.() ?? 0}`)
  }
}

/** Writes RESULTS/<name>-<timestamp>.json and RESULTS/<name>-latest.json; returns the first path. */
export function writeResult(name, result) {
  const dir = resultsDir()
  mkdirSync(dir, {recursive: true})
  const stamp = new Date().toISOString().replace(/[:.]/g, '-')
  const body = JSON.stringify(result, null, 2) + '\n'
  const file = join(dir, `${name}-${stamp}.json`)
  writeFileSync(file, body)
  writeFileSync(join(dir, `${name}-latest.json`), body)
  return file
}

export const log = (msg) => console.log(`[bench] ${msg}`)
