#!/usr/bin/env node
// What a healthcheck costs (issue 10): the memory (VmRSS, PSS) of the per-container monitor of an
// idle `run -d IMAGE sleep 1000` container, ctr-ts's shim next to podman's conmon:
//  - without a healthcheck;
//  - with `--health-cmd true --health-interval 30s`, 1 s after the start (no check ran yet);
//  - with `--health-cmd true --health-interval 1s`, 6 s after the start (4-5 checks ran), between
//    two checks: the shim ran them itself (`runtime exec`) and nothing stays resident.
// Also the number of resident helper processes per container in each case (the check's own
// short-lived `runc exec` is left out of the count).
// Ratios are ctr-ts / podman (lower is better). A complete run (with peers, not --quick, no
// errors) writes the committed bench/results/HEALTH.json and HEALTH.md.
//
//   node bench/health.mjs [--quick] [--no-peers]
import {writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {ctrStore} from './lib/ctr.mjs'
import {startImageRegistry} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {latestMarkdown} from './lib/markdown.mjs'
import {podmanStore} from './lib/podman.mjs'
import {overheadProcesses, sleep, snapshot, sumMemory} from './lib/proc.mjs'
import {log, machineInfo, median, resultsDir, row} from './lib/report.mjs'

const must = (what) => (r) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r
}

const MODES = [
  {key: 'none', label: 'no healthcheck', flags: [], settleMs: 1000},
  {key: 'every30s', label: 'healthcheck every 30s', flags: ['--health-cmd', 'true', '--health-interval', '30s'], settleMs: 1000},
  {key: 'every1s', label: 'healthcheck every 1s, 6 s after the start', flags: ['--health-cmd', 'true', '--health-interval', '1s'], settleMs: 6000},
]

/** Transient processes of a check in progress: not resident. */
const transient = (p) => p.comm === 'runc' || p.comm === 'runc:[2:INIT]' || p.comm === 'true' || p.comm === 'podman'

/** Starts `count` containers with `flags`, measures each after `settleMs`: the monitor's memory and the resident helpers. */
async function measure(count, start, monitorComm, markers, mode) {
  const per = []
  for (let i = 0; i < count; i++) {
    const before = snapshot()
    const id = await start(mode.flags)
    await sleep(mode.settleMs)
    let procs = overheadProcesses(before, snapshot(), markers)
    // a check in progress right now: measure again a little later, between two checks
    for (let tries = 0; tries < 10 && procs.some(transient); tries++) {
      await sleep(150)
      procs = overheadProcesses(before, snapshot(), markers)
    }
    const resident = procs.filter((p) => !transient(p))
    const monitor = resident.find((p) => p.comm === monitorComm)
    per.push({id: id.slice(0, 12), monitor: monitor ?? null, helpers: resident, total: sumMemory(resident), processes: resident.length})
  }
  const pick = (f) => median(per.map(f).filter((v) => v !== undefined && v !== null))
  return {
    containers: per,
    monitorRssKiB: pick((p) => p.monitor?.rssKiB),
    monitorPssKiB: pick((p) => p.monitor?.pssKiB),
    totalRssKiB: pick((p) => p.total.rssKiB),
    totalPssKiB: pick((p) => p.total.pssKiB),
    processes: pick((p) => p.processes),
  }
}

export async function benchHealth(options = {}) {
  const count = options.quick ? 1 : 3
  const reg = await startImageRegistry({})
  const image = reg.refs.busybox
  const ctr = await ctrStore({insecure: [reg.host]})
  const podman = options.peers === false ? undefined : await podmanStore()
  const rows = []
  const errors = []
  const details = {image, ctr: {}, podman: {}}
  const notes = [
    'memory of the per-container monitor (ctr-ts-shim / conmon) of an idle `run -d IMAGE sleep 1000`, found by diffing /proc; medians over the containers started',
    'the check is `true`; "every 1s" is measured 6 s after the start, between two checks (a check in progress is waited out); the transient `runc exec` of a check is not counted',
  ]
  try {
    log(`health: pulling ${image}`)
    must('ctr-ts pull')(await ctr.run(['pull', image]))
    if (podman) must('podman pull')(await podman.run(['pull', '--quiet', '--tls-verify=false', image]))
    for (const mode of MODES) {
      log(`health: ${count} container(s), ${mode.label}`)
      details.ctr[mode.key] = await measure(
        count,
        async (flags) => must('ctr-ts run -d')(await ctr.run(['run', '-d', ...flags, image, 'sleep', '1000'])).stdout.trim(),
        'ctr-ts-shim',
        [ctr.root, ctr.runRoot],
        mode,
      )
      if (mode.key === 'every1s') Object.assign(details.ctr[mode.key], await healthOf(ctr, details.ctr[mode.key]))
      await ctr.removeContainers()
      if (podman) {
        try {
          details.podman[mode.key] = await measure(
            count,
            async (flags) => must('podman run -d')(await podman.run(['run', '-d', ...flags, image, 'sleep', '1000'])).stdout.trim(),
            'conmon',
            [podman.env.XDG_RUNTIME_DIR, podman.env.HOME.replace(/\/home$/, '')],
            mode,
          )
        } catch (err) {
          notes.push(`podman, ${mode.label}: ${err.message}`)
        }
        if (mode.key === 'every1s' && details.podman[mode.key]) Object.assign(details.podman[mode.key], await healthOf(podman, details.podman[mode.key]))
        await podman.run(['rm', '-af', '-t', '0'], {timeoutMs: 60_000})
      }
      const c = details.ctr[mode.key]
      const p = details.podman[mode.key]
      rows.push(row('health', `shim vs conmon RSS, ${mode.label}`, 'KiB', c.monitorRssKiB, p?.monitorRssKiB, p && 'podman'))
      rows.push(row('health', `shim vs conmon PSS, ${mode.label}`, 'KiB', c.monitorPssKiB, p?.monitorPssKiB, p && 'podman'))
      rows.push(row('health', `resident helper processes, ${mode.label}`, 'processes', c.processes, p?.processes, p && 'podman'))
    }
    const n = details.ctr.every1s
    notes.push(`ctr-ts, every 1s: ${n.checksRecorded} checks recorded in State.Health after 6 s, status ${n.status} (the shim runs them)`)
    const pn = details.podman.every1s
    if (pn) {
      notes.push(
        pn.checksRecorded > 0
          ? `podman, every 1s: ${pn.checksRecorded} checks recorded, status ${pn.status}`
          : `podman, every 1s: no check ran (podman schedules checks with systemd timers; without a systemd user session none run): its rows show conmon with a healthcheck configured, not running`,
      )
    }
  } catch (err) {
    errors.push(err.message)
    log(`health failed: ${err.message}`)
  } finally {
    await ctr.cleanup()
    if (podman) await podman.cleanup()
    await reg.stop()
  }
  if (isMain(import.meta.url) && !options.quick && podman && errors.length === 0) writeCommitted({rows, notes, details, options})
  return {rows, details, notes, errors}
}

/** State.Health of the last container measured: how many checks it recorded, and its status. */
async function healthOf(tool, measured) {
  const id = measured.containers.at(-1)?.id
  const r = id ? await tool.run(['inspect', id]) : undefined
  const doc = r?.code === 0 ? JSON.parse(r.stdout)[0] : undefined
  const h = doc?.State?.Health ?? doc?.State?.Healthcheck
  return {checksRecorded: h?.Log?.length ?? 0, status: h?.Status ?? null}
}

/** bench/results/HEALTH.json and HEALTH.md: the committed results of a complete run. */
function writeCommitted(result) {
  const doc = {bench: 'health', machine: machineInfo(), seconds: 0, ...result}
  const dir = resultsDir()
  writeFileSync(join(dir, 'HEALTH.json'), JSON.stringify(doc, null, 2) + '\n')
  const md = latestMarkdown(doc)
    .replace('# ctr-ts benchmark results', '# ctr-ts benchmark: the cost of a healthcheck')
    .replace(/Written by [^\n]*\n[^\n]*\n/, 'Written by `node bench/health.mjs` (a complete run: with podman, not --quick). Ratios are ctr-ts / podman.\n')
    .replace(/- duration: [^\n]*\n/, '')
  writeFileSync(join(dir, 'HEALTH.md'), md)
  log(`committed results: ${join(dir, 'HEALTH.md')} and HEALTH.json`)
}

if (isMain(import.meta.url)) await runStandalone('health', import.meta.url, benchHealth)
