#!/usr/bin/env node
// Container start-up, the container lifecycle and per-container memory:
//  - median wall time of `ctr-ts run --rm IMAGE true` (image already pulled) next to
//    `podman run --rm IMAGE true` (same image pulled into podman's fresh storage), on the default
//    network (slirp4netns) and with `--network none`;
//  - `run -d` of a container that exits on SIGTERM, then its `stop` and its `rm`, each timed;
//  - `ps -a` with 50 (created) containers in the store;
//  - the CTR_TS_TRACE=1 phase timeline of `run --rm IMAGE true` (both networks), the median of
//    each phase over a few traced runs (kept in the JSON, printed as a table);
//  - CLI start-up alone (`ctr-ts version` / `podman --version`), the floor under the above;
//  - resident memory (VmRSS, and PSS from smaps_rollup) of what an idle detached container
//    (`run -d IMAGE sleep 1000`) keeps running besides its own processes: ctr-ts's shim vs
//    podman's conmon, and the sum of all helper processes (shim/conmon + fuse-overlayfs +
//    slirp4netns + port proxy) each tool adds.
// Ratios are ctr-ts / podman (lower is better).
//
//   node bench/run.mjs [--runs 10] [--quick] [--no-peers]
import {startImageRegistry} from './lib/images.mjs'
import {ctrStore} from './lib/ctr.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {podmanStore} from './lib/podman.mjs'
import {memoryOf, overheadProcesses, sleep, snapshot, sumMemory, waitFor} from './lib/proc.mjs'
import {log, median, row, stats} from './lib/report.mjs'

const SETTLE_MS = 1000

/** Starts `count` idle containers one by one; per container: the main helper's memory and the helpers' sum. */
async function idleMemory(tool, count, start, mainHelper, markers) {
  const per = []
  for (let i = 0; i < count; i++) {
    const before = snapshot()
    const id = await start()
    await sleep(SETTLE_MS)
    const procs = overheadProcesses(before, snapshot(), markers)
    const main = await mainHelper(id, procs)
    per.push({id: id.slice(0, 12), main: main ?? null, helpers: procs, total: sumMemory(procs)})
  }
  const pick = (f) => median(per.map(f))
  return {
    tool,
    containers: per,
    mainRssKiB: pick((p) => p.main?.rssKiB),
    mainPssKiB: pick((p) => p.main?.pssKiB),
    totalRssKiB: pick((p) => p.total.rssKiB),
    totalPssKiB: pick((p) => p.total.pssKiB),
  }
}

/** The phase lines of a CTR_TS_TRACE table on stderr: [{name, start, ms}]. */
export function parseTrace(stderr) {
  const lines = stderr.split('\n')
  const at = lines.indexOf('ctr-ts trace:')
  if (at < 0) return []
  const out = []
  for (const line of lines.slice(at + 2)) {
    const m = /^(.+?)\s+(-?\d+\.\d)?\s+(\d+\.\d)$/.exec(line)
    if (m) out.push({name: m[1].trim(), start: m[2] === undefined ? null : Number(m[2]), ms: Number(m[3])})
  }
  return out
}

/** Median start and duration of every phase over several traced runs, in the order they start. */
export function medianTimeline(runs) {
  const names = new Map()
  for (const phases of runs) {
    for (const p of phases) {
      const e = names.get(p.name) ?? {name: p.name, starts: [], ms: []}
      if (p.start !== null) e.starts.push(p.start)
      e.ms.push(p.ms)
      names.set(p.name, e)
    }
  }
  return [...names.values()]
    .map((e) => ({name: e.name, start: median(e.starts), ms: median(e.ms), runs: e.ms.length}))
    .sort((a, b) => (a.name === 'total') - (b.name === 'total') || (a.start ?? 0) - (b.start ?? 0))
}

/** A timeline as a Markdown table (bench/README.md's before/after tables). */
export function timelineMarkdown(timeline) {
  const r = (x) => (x === null || x === undefined ? '' : x.toFixed(1))
  return ['| phase | start ms | ms |', '| --- | ---: | ---: |', ...timeline.map((p) => `| ${p.name} | ${r(p.start)} | ${r(p.ms)} |`)].join('\n')
}

/**
 * Times `fns` ({tool: () => ms}) `runs` times each, interleaved (tool A, tool B, A, B...) so that
 * a drift in machine load affects all tools alike, after one untimed warm-up each.
 */
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

/** The median of the per-round ratios ctr-ts/podman (the issue's measure), or null. */
function roundRatioMedian(d) {
  const a = d['ctr-ts']?.samplesMs
  const b = d.podman?.samplesMs
  if (!a || !b) return null
  return Math.round(median(a.map((x, i) => x / b[i])) * 100) / 100
}

const must = (what) => (r) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r
}

export async function benchRun(options = {}) {
  const runs = options.runs ?? (options.quick ? 3 : 10)
  const idleCount = options.quick ? 1 : 3
  const reg = await startImageRegistry({})
  const image = reg.refs.busybox
  const ctr = await ctrStore({insecure: [reg.host]})
  const podman = options.peers === false ? undefined : await podmanStore()
  const rows = []
  const errors = []
  const details = {image}
  const notes = [
    'idle memory: processes a detached `sleep 1000` container adds outside its pid namespace (found by diffing /proc and matching the bench\'s private store paths), after 1 s; medians over the containers started',
    'podman\'s rootless pause process (one per user, shared by all containers) exists before the containers start and is not counted; ctr-ts has none',
  ]
  try {
    log(`run: pulling ${image}`)
    must('ctr-ts pull')(await ctr.run(['pull', image]))
    if (podman) must('podman pull')(await podman.run(['pull', '--quiet', '--tls-verify=false', image]))

    // CLI start-up
    const startup = {'ctr-ts': async () => must('ctr-ts version')(await ctr.run(['version'])).ms}
    if (podman) startup.podman = async () => must('podman --version')(await podman.run(['--version'])).ms
    details.startup = await timeInterleaved(runs, startup)
    rows.push(row('run', 'CLI start-up (ctr-ts version / podman --version)', 'ms', details.startup['ctr-ts'].median, details.startup.podman?.median, podman && 'podman'))

    // run --rm true, default network and --network none
    for (const [key, extra, label] of [
      ['runRm', [], 'run --rm IMAGE true'],
      ['runRmNone', ['--network', 'none'], 'run --rm --network none IMAGE true'],
    ]) {
      log(`run: ${runs} x ${label}`)
      const fns = {'ctr-ts': async () => must(`ctr-ts ${label}`)(await ctr.run(['run', '--rm', ...extra, image, 'true'])).ms}
      if (podman) fns.podman = async () => must(`podman ${label}`)(await podman.run(['run', '--rm', ...extra, image, 'true'])).ms
      details[key] = await timeInterleaved(runs, fns)
      details[key].roundRatioMedian = roundRatioMedian(details[key])
      rows.push(row('run', label, 'ms', details[key]['ctr-ts'].median, details[key].podman?.median, podman && 'podman'))
    }

    // the phase timeline of run --rm (ctr-ts only)
    const traced = options.quick ? 3 : 7
    log(`run: ${traced} x CTR_TS_TRACE=1 run --rm (default network, --network none)`)
    details.trace = {}
    for (const [key, extra] of [['default', []], ['none', ['--network', 'none']]]) {
      const runsTraced = []
      for (let i = 0; i < traced; i++) {
        const r = must('ctr-ts run --rm (traced)')(await ctr.run(['run', '--rm', ...extra, image, 'true'], {env: {...ctr.env, CTR_TS_TRACE: '1'}}))
        runsTraced.push(parseTrace(r.stderr))
      }
      details.trace[key] = medianTimeline(runsTraced)
    }

    // run -d, stop, rm: a container whose init exits on SIGTERM (busybox sh waits on a child)
    log(`run: ${runs} x run -d / stop / rm`)
    const daemon = [image, 'sh', '-c', 'trap "exit 0" TERM; sleep 1000 & wait']
    const cycle = (tool, store) => {
      const samples = {run: [], stop: [], rm: []}
      const once = async () => {
        const r = must(`${tool} run -d`)(await store.run(['run', '-d', ...daemon]))
        const id = r.stdout.trim().split('\n').pop()
        const s = must(`${tool} stop`)(await store.run(['stop', id]))
        const d = must(`${tool} rm`)(await store.run(['rm', id]))
        return {run: r.ms, stop: s.ms, rm: d.ms}
      }
      return {samples, once}
    }
    const tools = {'ctr-ts': cycle('ctr-ts', ctr)}
    if (podman) tools.podman = cycle('podman', podman)
    for (let i = -1; i < runs; i++) {
      for (const t of Object.values(tools)) {
        const r = await t.once()
        if (i >= 0) for (const k of ['run', 'stop', 'rm']) t.samples[k].push(r[k])
      }
    }
    details.lifecycle = {}
    for (const [k, label] of [['run', 'run -d IMAGE (sh waiting)'], ['stop', 'stop (init exits on SIGTERM)'], ['rm', 'rm (stopped container)']]) {
      details.lifecycle[k] = Object.fromEntries(Object.entries(tools).map(([tool, t]) => [tool, {...stats(t.samples[k]), samplesMs: t.samples[k].map((x) => Math.round(x))}]))
      rows.push(row('run', label, 'ms', details.lifecycle[k]['ctr-ts'].median, details.lifecycle[k].podman?.median, podman && 'podman'))
    }

    // ps -a with 50 containers (created, not running)
    const psCount = options.quick ? 10 : 50
    log(`run: ps -a with ${psCount} containers`)
    for (let i = 0; i < psCount; i++) {
      must('ctr-ts create')(await ctr.run(['create', image, 'true']))
      if (podman) must('podman create')(await podman.run(['create', image, 'true']))
    }
    const psFns = {'ctr-ts': async () => must('ctr-ts ps -a')(await ctr.run(['ps', '-a'])).ms}
    if (podman) psFns.podman = async () => must('podman ps -a')(await podman.run(['ps', '-a'])).ms
    details.ps = await timeInterleaved(runs, psFns)
    details.ps.containers = psCount
    rows.push(row('run', `ps -a with ${psCount} containers`, 'ms', details.ps['ctr-ts'].median, details.ps.podman?.median, podman && 'podman'))
    await ctr.removeContainers()
    if (podman) await podman.run(['rm', '-af', '-t', '0'], {timeoutMs: 120_000})

    // idle container memory
    log(`run: memory of ${idleCount} idle container(s) each`)
    const ctrMem = await idleMemory(
      'ctr-ts',
      idleCount,
      async () => must('ctr-ts run -d')(await ctr.run(['run', '-d', image, 'sleep', '1000'])).stdout.trim(),
      async (id) => {
        const r = must('ctr-ts inspect')(await ctr.run(['inspect', id]))
        const pid = JSON.parse(r.stdout)[0]?.State?.ShimPid
        return pid ? {pid, ...memoryOf(pid)} : undefined
      },
      [ctr.root, ctr.runRoot],
    )
    details.idle = {'ctr-ts': ctrMem}
    await ctr.removeContainers()
    if (podman) {
      const pMem = await idleMemory(
        'podman',
        idleCount,
        async () => must('podman run -d')(await podman.run(['run', '-d', image, 'sleep', '1000'])).stdout.trim(),
        async (id, procs) => {
          const conmon = procs.find((p) => p.comm === 'conmon')
          return conmon ? {pid: conmon.pid, rssKiB: conmon.rssKiB, pssKiB: conmon.pssKiB} : undefined
        },
        [podman.env.XDG_RUNTIME_DIR, podman.env.HOME.replace(/\/home$/, '')],
      )
      details.idle.podman = pMem
    }
    const pm = details.idle.podman
    rows.push(row('run', 'idle container: shim vs conmon RSS', 'KiB', ctrMem.mainRssKiB, pm?.mainRssKiB, pm && 'podman'))
    rows.push(row('run', 'idle container: shim vs conmon PSS', 'KiB', ctrMem.mainPssKiB, pm?.mainPssKiB, pm && 'podman'))
    rows.push(row('run', 'idle container: all helpers RSS', 'KiB', ctrMem.totalRssKiB, pm?.totalRssKiB, pm && 'podman'))
    rows.push(row('run', 'idle container: all helpers PSS', 'KiB', ctrMem.totalPssKiB, pm?.totalPssKiB, pm && 'podman'))
    const names = (m) => [...new Set(m.containers.flatMap((c) => c.helpers.map((h) => h.comm)))].join(', ')
    notes.push(`helpers counted: ctr-ts: ${names(ctrMem)}${pm ? `; podman: ${names(pm)}` : ''}`)
  } catch (err) {
    errors.push(err.message)
    log(`run failed: ${err.message}`)
  } finally {
    await ctr.cleanup()
    if (podman) await podman.cleanup()
    await reg.stop()
  }
  if (details.trace) {
    for (const [key, timeline] of Object.entries(details.trace)) {
      log(`run: CTR_TS_TRACE timeline of run --rm ${key === 'none' ? '--network none ' : ''}IMAGE true (medians):\n${timelineMarkdown(timeline)}`)
    }
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('run', import.meta.url, benchRun)
