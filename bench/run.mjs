#!/usr/bin/env node
// Container start-up and per-container memory:
//  - median wall time of `ctr-ts run --rm IMAGE true` (image already pulled) next to
//    `podman run --rm IMAGE true` (same image pulled into podman's fresh storage);
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

    // run --rm true
    log(`run: ${runs} x run --rm ${image} true`)
    const runRm = {'ctr-ts': async () => must('ctr-ts run --rm')(await ctr.run(['run', '--rm', image, 'true'])).ms}
    if (podman) runRm.podman = async () => must('podman run --rm')(await podman.run(['run', '--rm', image, 'true'])).ms
    details.runRm = await timeInterleaved(runs, runRm)
    rows.push(row('run', 'run --rm IMAGE true', 'ms', details.runRm['ctr-ts'].median, details.runRm.podman?.median, podman && 'podman'))

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
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('run', import.meta.url, benchRun)
