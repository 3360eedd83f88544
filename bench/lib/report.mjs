// Statistics, the summary table and the JSON results (bench/results/, or $CTR_TS_BENCH_OUT).
import {execFileSync, spawnSync} from 'node:child_process'
import {accessSync, constants, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {cpus, loadavg, release, tmpdir, totalmem} from 'node:os'
import {join} from 'node:path'
import {BENCH, REPO} from './harness.mjs'
import {which} from './exec.mjs'
import {formatGoal, withGoals} from './goals.mjs'
import {formatValue, latestMarkdown} from './markdown.mjs'

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

/**
 * A summary row: one metric, ctr-ts's value, the peer's value and the ratio ctr-ts/peer.
 * `better`: 'lower' (times, memory) or 'higher' (throughput), to say which way is good.
 */
export function row(bench, metric, unit, ctr, peer, peerName, better = 'lower') {
  return {bench, metric, unit, ctrTs: ctr ?? null, peer: peer ?? null, peerName: peerName ?? null, ratio: ratio(ctr, peer), better}
}

export function formatTable(rows) {
  const head = ['bench', 'metric', 'ctr-ts', 'peer', 'ratio ctr-ts/peer', 'goal']
  const body = withGoals(rows).map((r) => [
    r.bench,
    r.metric,
    formatValue(r.ctrTs, r.unit),
    r.peerName ? `${formatValue(r.peer, r.unit)} (${r.peerName})` : '',
    r.ratio === null ? '' : `${r.ratio.toFixed(2)}x (${r.better} is better)`,
    formatGoal(r),
  ])
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((b) => b[i].length)))
  const line = (cells) => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
  return [line(head), line(widths.map((w) => '-'.repeat(w))), ...body.map(line)].join('\n')
}

/** The first line of `cmd --version` (or the first one matching `line`: fuse-overlayfs prints fusermount3's first). */
function version(cmd, args = ['--version'], line = /./) {
  const bin = which(cmd)
  if (!bin) return null
  try {
    const r = spawnSync(bin, args, {encoding: 'utf8', timeout: 10_000, stdio: ['ignore', 'pipe', 'pipe']})
    return `${r.stdout}\n${r.stderr}`.split('\n').find((l) => line.test(l))?.trim() ?? null
  } catch {
    return null
  }
}

function gitDescribe() {
  try {
    return execFileSync('git', ['-c', `safe.directory=${REPO}`, '-C', REPO, 'describe', '--always', '--dirty'], {encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore']}).trim()
  } catch {
    return null // not a checkout, or not readable
  }
}

/** The commit measured: read when the run starts, with the product snapshot, not when it ends. */
const COMMIT_AT_START = gitDescribe()

/** PRETTY_NAME of /etc/os-release (`Debian GNU/Linux 12 (bookworm)`), or null. */
function osName() {
  try {
    return /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))?.[1] ?? null
  } catch {
    return null
  }
}

export function machineInfo() {
  return {
    date: new Date().toISOString(),
    commit: COMMIT_AT_START,
    node: process.version,
    kernel: release(),
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    cores: cpus().length,
    memory: `${(totalmem() / 1024 ** 3).toFixed(1)} GiB`,
    os: osName(),
    /** 1/5/15-minute load average at the end: other work on the machine skews timings. */
    loadavg: loadavg().map((x) => Math.round(x * 100) / 100),
    uid: process.getuid?.(),
    runc: version('runc'),
    podman: version('podman'),
    skopeo: version('skopeo'),
    fuseOverlayfs: version('fuse-overlayfs', ['--version'], /^fuse-overlayfs/),
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

/**
 * RESULTS/LATEST.json (the whole run) and RESULTS/LATEST.md (machine, tools, table, notes): the
 * committed results the README's table is generated from (bench/readme-table.mjs).
 */
export function writeLatest(doc) {
  const dir = resultsDir()
  mkdirSync(dir, {recursive: true})
  writeFileSync(join(dir, 'LATEST.json'), JSON.stringify(doc, null, 2) + '\n')
  writeFileSync(join(dir, 'LATEST.md'), latestMarkdown(doc))
  return join(dir, 'LATEST.md')
}

export const log = (msg) => console.log(`[bench] ${msg}`)
