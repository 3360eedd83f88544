#!/usr/bin/env node
// The rootfs drivers side by side: ctr-ts with fuse-overlayfs (the default), ctr-ts with the
// kernel's overlayfs (CTR_TS_STORAGE_DRIVER=overlay), and rootless podman with its default driver
// (native kernel overlay on this kernel, no mount_program) as the peer:
//  - start: median wall time of `run --rm --network none IMAGE true` (interleaved rounds), and
//    the CTR_TS_TRACE=1 phases the driver changes (the shim's mount, unmount and reap);
//  - memory: the helper processes an idle `run -d --network none IMAGE sleep 1000` adds
//    (shim/conmon, fuse-overlayfs...), RSS and PSS, medians over the containers;
//  - fileio: inside the container, on its root filesystem (no volume): untar of a 20 000-file
//    archive (the unpack bench's source tree, bind-mounted read-only at /in), `find` + `du` over
//    the tree, `cp -a` of it, then `rm -rf` of both; each timed in the container with
//    /proc/uptime (10 ms resolution), medians over the runs.
// Each group runs on its own with --only start|memory|fileio (comma-separated). Ratios are
// ctr-ts / podman (lower is better).
//
//   node bench/rootfs.mjs [--runs 5] [--quick] [--no-peers] [--only start,memory,fileio]
import {mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ctrStore} from './lib/ctr.mjs'
import {buildManyFilesLayer, startImageRegistry} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {podmanStore} from './lib/podman.mjs'
import {memoryOf, overheadProcesses, sleep, snapshot, sumMemory} from './lib/proc.mjs'
import {log, median, row, stats} from './lib/report.mjs'
import {medianTimeline, parseTrace, timelineMarkdown} from './run.mjs'

const GROUPS = ['start', 'memory', 'fileio']
const FILEIO_STEPS = ['untar', 'find', 'cp', 'rm']

/** The in-container script: each step's milliseconds on one line, `STEP MS`. */
const FILEIO_SCRIPT = [
  't() { cut -d" " -f1 /proc/uptime; }',
  'lap() { b=$(t); awk -v a="$a" -v b="$b" -v s="$1" "BEGIN { printf \\"%s %d\\\\n\\", s, (b - a) * 1000 }"; a=$b; }',
  'mkdir /x /y',
  'a=$(t)',
  'tar -xf /in/files.tar -C /x; lap untar',
  'find /x -type f | wc -l >/dev/null; du -s /x >/dev/null; lap find',
  'cp -a /x /y; lap cp',
  'rm -rf /x /y; lap rm',
].join('\n')

const must = (what) => (r) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r
}

function parseSteps(stdout) {
  const out = {}
  for (const line of stdout.split('\n')) {
    const m = /^(\w+) (\d+)$/.exec(line.trim())
    if (m) out[m[1]] = Number(m[2])
  }
  return out
}

/** Idle helper memory of `count` detached containers started by `start` (see run.mjs idleMemory). */
async function idleMemory(count, start, markers) {
  const per = []
  for (let i = 0; i < count; i++) {
    const before = snapshot()
    await start()
    await sleep(1000)
    const procs = overheadProcesses(before, snapshot(), markers)
    per.push({helpers: procs.map((p) => ({comm: p.comm, rssKiB: p.rssKiB, pssKiB: p.pssKiB})), total: sumMemory(procs)})
  }
  return {containers: per, rssKiB: median(per.map((p) => p.total.rssKiB)), pssKiB: median(per.map((p) => p.total.pssKiB))}
}

export async function benchRootfs(options = {}) {
  const runs = options.runs ?? (options.quick ? 2 : 5)
  const only = options.only ? options.only.split(',').map((s) => s.trim()) : GROUPS
  for (const g of only) if (!GROUPS.includes(g)) throw new Error(`--only: unknown group ${g} (want ${GROUPS.join(', ')})`)
  const files = options.quick ? 5_000 : 20_000
  const rows = []
  const errors = []
  const details = {}
  const notes = [
    'ctr-ts fuse = fuse-overlayfs (default driver); ctr-ts kernel = the kernel overlayfs driver (CTR_TS_STORAGE_DRIVER=overlay); podman = rootless podman with its default storage (overlay, native kernel mount on this kernel)',
    `fileio: inside the container on its rootfs: tar -xf of a ${files}-file archive (bind-mounted read-only), find + du over it, cp -a of it, rm -rf of both; timed in the container (/proc/uptime)`,
    'memory: processes an idle detached container adds outside its pid namespace (shim or conmon, fuse-overlayfs), after 1 s',
  ]
  const reg = await startImageRegistry({})
  const image = reg.refs.busybox
  const fuse = await ctrStore({insecure: [reg.host]})
  const kernel = await ctrStore({insecure: [reg.host]})
  kernel.env.CTR_TS_STORAGE_DRIVER = 'overlay'
  const podman = options.peers === false ? undefined : await podmanStore({driver: 'native'})
  const tools = {fuse: {label: 'ctr-ts fuse-overlayfs', s: fuse}, kernel: {label: 'ctr-ts kernel overlay', s: kernel}}
  if (podman) tools.podman = {label: 'podman', s: podman}
  const pRow = (metric, unit, key, pick) => {
    for (const k of ['fuse', 'kernel']) {
      const v = pick(details[key][k])
      rows.push(row('rootfs', `${metric} (${k === 'fuse' ? 'fuse-overlayfs' : 'kernel overlay'})`, unit, v, podman ? pick(details[key].podman) : null, podman && 'podman'))
    }
  }
  const work = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-rootfs-'))
  try {
    log(`rootfs: pulling ${image}`)
    for (const [k, t] of Object.entries(tools)) must(`${k} pull`)(await t.s.run(k === 'podman' ? ['pull', '--quiet', '--tls-verify=false', image] : ['pull', '-q', image]))

    if (only.includes('start')) {
      log(`rootfs: ${runs} x run --rm --network none IMAGE true, each driver`)
      const samples = Object.fromEntries(Object.keys(tools).map((k) => [k, []]))
      for (let i = -1; i < runs; i++) {
        for (const [k, t] of Object.entries(tools)) {
          const r = must(`${k} run --rm`)(await t.s.run(['run', '--rm', '--network', 'none', image, 'true']))
          if (i >= 0) samples[k].push(r.ms)
        }
      }
      details.start = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map(Math.round)}]))
      pRow('run --rm --network none IMAGE true', 'ms', 'start', (d) => d?.median)
      // the phases the driver changes, from CTR_TS_TRACE=1 (less noisy than the wall time)
      const traced = options.quick ? 3 : 9
      log(`rootfs: ${traced} x CTR_TS_TRACE=1 run --rm --network none, each ctr-ts driver`)
      details.trace = {}
      for (const k of ['fuse', 'kernel']) {
        const s = tools[k].s
        const all = []
        for (let i = 0; i < traced; i++) {
          const r = must(`${k} run --rm (traced)`)(await s.run(['run', '--rm', '--network', 'none', image, 'true'], {env: {...s.env, CTR_TS_TRACE: '1'}}))
          all.push(parseTrace(r.stderr))
        }
        details.trace[k] = medianTimeline(all)
      }
      const phase = (k, re) => details.trace[k].filter((p) => re.test(p.name)).reduce((a, p) => a + p.ms, 0)
      const MOUNT = /^shim: rootfs mount$/
      const END = /^shim: (unmount|reap)/
      rows.push(row('rootfs', 'shim: rootfs mount, kernel overlay vs fuse-overlayfs (traced)', 'ms', phase('kernel', MOUNT), phase('fuse', MOUNT), 'ctr-ts fuse-overlayfs'))
      rows.push(row('rootfs', 'shim: unmount + reap, kernel overlay vs fuse-overlayfs (traced)', 'ms', phase('kernel', END), phase('fuse', END), 'ctr-ts fuse-overlayfs'))
      rows.push(row('rootfs', 'total (traced), kernel overlay vs fuse-overlayfs', 'ms', phase('kernel', /^total$/), phase('fuse', /^total$/), 'ctr-ts fuse-overlayfs'))
    }

    if (only.includes('memory')) {
      const count = options.quick ? 1 : 3
      log(`rootfs: helper memory of ${count} idle container(s), each driver`)
      details.memory = {}
      for (const [k, t] of Object.entries(tools)) {
        const markers = k === 'podman' ? [t.s.env.XDG_RUNTIME_DIR, t.s.env.HOME.replace(/\/home$/, '')] : [t.s.root, t.s.runRoot]
        details.memory[k] = await idleMemory(count, async () => must(`${k} run -d`)(await t.s.run(['run', '-d', '--network', 'none', image, 'sleep', '1000'])), markers)
        if (k === 'podman') must('podman rm')(await t.s.run(['rm', '-af', '-t', '0'], {timeoutMs: 120_000}))
        else await t.s.removeContainers()
      }
      pRow('idle container: helpers RSS', 'KiB', 'memory', (d) => d?.rssKiB)
      pRow('idle container: helpers PSS', 'KiB', 'memory', (d) => d?.pssKiB)
      const names = (d) => [...new Set(d.containers.flatMap((c) => c.helpers.map((h) => h.comm)))].join(', ')
      notes.push(`helpers counted: ${Object.entries(details.memory).map(([k, d]) => `${k}: ${names(d)}`).join('; ')}`)
    }

    if (only.includes('fileio')) {
      log(`rootfs: building a ${files}-file archive`)
      const many = await buildManyFilesLayer(files)
      writeFileSync(join(work, 'files.tar'), many.tar)
      log(`rootfs: ${runs} x untar / find / cp -a / rm -rf of ${files} files in the container, each driver`)
      const samples = Object.fromEntries(Object.keys(tools).map((k) => [k, Object.fromEntries(FILEIO_STEPS.map((s) => [s, []]))]))
      for (let i = -1; i < runs; i++) {
        for (const [k, t] of Object.entries(tools)) {
          const r = must(`${k} fileio`)(await t.s.run(['run', '--rm', '--network', 'none', '-v', `${work}:/in:ro`, image, 'sh', '-c', FILEIO_SCRIPT], {timeoutMs: 600_000}))
          const steps = parseSteps(r.stdout)
          for (const s of FILEIO_STEPS) if (steps[s] === undefined) throw new Error(`${k} fileio: no ${s} time in ${JSON.stringify(r.stdout)}`)
          if (i >= 0) for (const s of FILEIO_STEPS) samples[k][s].push(steps[s])
        }
      }
      details.fileio = {files}
      for (const [k, v] of Object.entries(samples)) {
        details.fileio[k] = Object.fromEntries(FILEIO_STEPS.map((s) => [s, {...stats(v[s]), samplesMs: v[s]}]))
      }
      const label = {untar: `untar ${files} files`, find: 'find + du over them', cp: 'cp -a of them', rm: 'rm -rf of both trees'}
      for (const s of FILEIO_STEPS) pRow(`in container: ${label[s]}`, 'ms', 'fileio', (d) => d?.[s]?.median)
    }
  } catch (err) {
    errors.push(err.message)
    log(`rootfs failed: ${err.message}`)
  } finally {
    for (const t of Object.values(tools)) await t.s.cleanup()
    await reg.stop()
    const {loadHarness} = await import('./lib/harness.mjs')
    await (await loadHarness()).cli.removeTree(work)
  }
  for (const [k, timeline] of Object.entries(details.trace ?? {})) log(`rootfs: CTR_TS_TRACE timeline of run --rm --network none (${k}, medians):\n${timelineMarkdown(timeline)}`)
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('rootfs', import.meta.url, benchRootfs)
