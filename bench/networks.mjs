#!/usr/bin/env node
// User-defined networks:
//  - median wall time of `run --rm IMAGE true` on a user-defined network next to the default
//    network (slirp4netns per container), interleaved, for ctr-ts and for podman
//    (`podman network create`, rootless, netavark + aardvark-dns in its rootless netns);
//  - the per-network resident memory: what the first container on a network adds besides its
//    own per-container helpers (ctr-ts: the holder ctr-ts-netns, its slirp4netns, aardvark-dns;
//    podman: its rootless-netns slirp4netns, aardvark-dns), found by diffing /proc.
// Ratios: ctr-ts / podman; the network / default ratio of each tool is in the notes and JSON.
//
//   node bench/networks.mjs [--runs 10] [--quick] [--no-peers]
import {startImageRegistry} from './lib/images.mjs'
import {ctrStore} from './lib/ctr.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {podmanStore} from './lib/podman.mjs'
import {overheadProcesses, sleep, snapshot, sumMemory} from './lib/proc.mjs'
import {log, row, stats} from './lib/report.mjs'

const must = (what) => (r) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r
}

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

/** Memory of the network-wide processes the first container on a network brings (per-container helpers left out). */
async function networkMemory(start, markers, perContainer) {
  const before = snapshot()
  await start()
  await sleep(1000)
  const procs = overheadProcesses(before, snapshot(), markers).filter((p) => !perContainer.includes(p.comm))
  return {helpers: procs, ...sumMemory(procs)}
}

export async function benchNetworks(options = {}) {
  const runs = options.runs ?? (options.quick ? 3 : 10)
  const reg = await startImageRegistry({})
  const image = reg.refs.busybox
  const ctr = await ctrStore({insecure: [reg.host]})
  const podman = options.peers === false ? undefined : await podmanStore()
  const rows = []
  const errors = []
  const details = {image}
  const notes = []
  try {
    must('ctr-ts pull')(await ctr.run(['pull', image]))
    must('ctr-ts network create')(await ctr.run(['network', 'create', 'benchnet']))
    if (podman) {
      must('podman pull')(await podman.run(['pull', '--quiet', '--tls-verify=false', image]))
      must('podman network create')(await podman.run(['network', 'create', 'benchnet']))
    }
    log(`networks: ${runs} x run --rm on a user-defined network (cold: no other container on it; warm: one idle container on it) and on the default network`)
    const fns = {
      'ctr-ts default': async () => must('ctr-ts run --rm')(await ctr.run(['run', '--rm', image, 'true'])).ms,
      'ctr-ts network': async () => must('ctr-ts run --rm --network')(await ctr.run(['run', '--rm', '--network', 'benchnet', image, 'true'])).ms,
    }
    if (podman) {
      fns['podman default'] = async () => must('podman run --rm')(await podman.run(['run', '--rm', image, 'true'])).ms
      fns['podman network'] = async () => must('podman run --rm --network')(await podman.run(['run', '--rm', '--network', 'benchnet', image, 'true'])).ms
    }
    details.runRm = await timeInterleaved(runs, fns)
    // warm: a service container keeps the network up (the rootless netns, its bridge, aardvark-dns)
    must('ctr-ts run -d')(await ctr.run(['run', '-d', '--network', 'benchnet', image, 'sleep', '1000']))
    if (podman) must('podman run -d')(await podman.run(['run', '-d', '--network', 'benchnet', image, 'sleep', '1000']))
    const warm = {
      'ctr-ts default': fns['ctr-ts default'],
      'ctr-ts network': fns['ctr-ts network'],
      ...(podman ? {'podman default': fns['podman default'], 'podman network': fns['podman network']} : {}),
    }
    details.runRmWarm = await timeInterleaved(runs, warm)
    await ctr.removeContainers()
    if (podman) await podman.run(['rm', '-af', '-t', '0'])
    const r = (a, b) => (a && b ? Math.round((a / b) * 100) / 100 : null)
    for (const [label, set] of [['cold', details.runRm], ['warm', details.runRmWarm]]) {
      const m = (k) => set[k]?.median
      rows.push(row('networks', `run --rm on a user-defined network (${label})`, 'ms', m('ctr-ts network'), m('podman network'), podman && 'podman'))
      rows.push(row('networks', `run --rm on the default network (same rounds, ${label})`, 'ms', m('ctr-ts default'), m('podman default'), podman && 'podman'))
      const ratio = {'ctr-ts': r(m('ctr-ts network'), m('ctr-ts default')), podman: r(m('podman network'), m('podman default'))}
      details[`networkOverDefault_${label}`] = ratio
      rows.push(row('networks', `network / default start time (${label})`, 'x', ratio['ctr-ts'], ratio.podman, podman && 'podman'))
      notes.push(`network / default median start time, ${label}: ctr-ts ${ratio['ctr-ts']}${podman ? `, podman ${ratio.podman}` : ''} (goal for ctr-ts: at most 1.2)`)
    }
    notes.push('cold: the network has no other container, so each run starts the rootless netns (holder, slirp4netns, bridge, firewall, aardvark-dns) and it goes away with the container; warm: an idle container on the network keeps it up (a service container, the case of compose stacks and CI jobs)')

    log('networks: memory of one network (first container on it)')
    const ctrMem = await networkMemory(
      async () => must('ctr-ts run -d')(await ctr.run(['run', '-d', '--network', 'benchnet', image, 'sleep', '1000'])),
      [ctr.root, ctr.runRoot],
      ['ctr-ts-shim', 'fuse-overlayfs', 'ctr-ts-portprox'],
    )
    await ctr.removeContainers()
    details.memory = {'ctr-ts': ctrMem}
    let pMem
    if (podman) {
      pMem = await networkMemory(
        async () => must('podman run -d')(await podman.run(['run', '-d', '--network', 'benchnet', image, 'sleep', '1000'])),
        [podman.env.XDG_RUNTIME_DIR, podman.env.HOME.replace(/\/home$/, '')],
        ['conmon', 'fuse-overlayfs', 'podman'],
      )
      details.memory.podman = pMem
    }
    rows.push(row('networks', 'per-network processes RSS', 'KiB', ctrMem.rssKiB, pMem?.rssKiB, podman && 'podman'))
    rows.push(row('networks', 'per-network processes PSS', 'KiB', ctrMem.pssKiB, pMem?.pssKiB, podman && 'podman'))
    const names = (x) => x.helpers.map((h) => h.comm).join(', ')
    notes.push(`per-network processes: ctr-ts: ${names(ctrMem)}${pMem ? `; podman: ${names(pMem)}` : ''}`)
  } catch (err) {
    errors.push(err.message)
    log(`networks failed: ${err.message}`)
  } finally {
    await ctr.cleanup()
    if (podman) await podman.cleanup()
    await reg.stop()
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('networks', import.meta.url, benchNetworks)
