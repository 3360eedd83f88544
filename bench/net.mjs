#!/usr/bin/env node
// Port-forward throughput and the memory of a container with one published port.
//
// A container (`run -d --tmpfs /srv -p HOSTPORT:80`) writes a big file of zeros into a tmpfs and
// serves it with busybox httpd; curl on the host downloads it from 127.0.0.1:HOSTPORT several
// times (1 GiB in all) → MiB/s through ctr-ts's forwarding (slirp4netns + ctr-ts-portproxy) and
// podman's (slirp4netns + rootlessport), with the same busybox httpd on the host without any
// container as the loopback ceiling. Memory: every helper process the container adds (shim or
// conmon, fuse-overlayfs, slirp4netns, port proxies), idle and after the transfer, plus the CPU
// time those helpers used for the transfer. Ratios are ctr-ts / podman (throughput: higher is
// better; memory and CPU: lower is better).
//
//   node bench/net.mjs [--runs 3] [--quick] [--no-peers]
import {spawn} from 'node:child_process'
import {mkdtempSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startImageRegistry} from './lib/images.mjs'
import {ctrStore} from './lib/ctr.mjs'
import {timed, which} from './lib/exec.mjs'
import {loadHarness} from './lib/harness.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {podmanStore} from './lib/podman.mjs'
import {memoryOf, overheadProcesses, sleep, snapshot, sumMemory, waitFor} from './lib/proc.mjs'
import {log, row, stats} from './lib/report.mjs'

const MiB = 1024 * 1024
const CLOCK_TICKS = 100

/** The container's command: fill /srv/big, then serve /srv on port 80. */
const serverCommand = (bytes) => ['sh', '-c', `head -c ${bytes} /dev/zero > /srv/big && exec httpd -f -p 80 -h /srv`]

async function waitHttp(port, bytes, timeoutMs = 30_000) {
  return waitFor(
    async () => {
      const r = await timed('curl', ['-sf', '-I', '--max-time', '2', `http://127.0.0.1:${port}/big`], {timeoutMs: 5000})
      return r.code === 0 && new RegExp(`content-length: ${bytes}\\b`, 'i').test(r.stdout)
    },
    timeoutMs,
    200,
  )
}

/**
 * Downloads /big `count` times, one curl per download (busybox httpd sometimes cuts a response
 * short when one curl fetches several URLs); returns MiB/s over the whole round (wall clock).
 */
async function download(port, bytes, count) {
  const started = performance.now()
  let got = 0
  for (let i = 0; i < count; i++) {
    const r = await timed('curl', ['-sf', '--max-time', '300', '-o', '/dev/null', '-w', '%{size_download}', `http://127.0.0.1:${port}/big`], {timeoutMs: 400_000})
    if (r.code !== 0) throw new Error(`curl http://127.0.0.1:${port}/big exited ${r.code}: ${r.stderr.trim()}`)
    if (Number(r.stdout.trim()) !== bytes) throw new Error(`curl http://127.0.0.1:${port}/big: got ${r.stdout.trim()} bytes, expected ${bytes}`)
    got += bytes
  }
  return got / MiB / ((performance.now() - started) / 1000)
}

function cpuTicks(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    return Number(f[11]) + Number(f[12])
  } catch {
    return 0
  }
}

/** Starts the server container with `start(hostPort)`; once it answers, records its helper processes and their memory. */
async function startServer(name, {bytes, start, markers, freePort}) {
  const port = await freePort()
  const before = snapshot()
  const id = await start(port)
  if (!(await waitHttp(port, bytes))) throw new Error(`${name}: the container's httpd did not answer on 127.0.0.1:${port}`)
  await sleep(1000)
  const helpers = overheadProcesses(before, snapshot(), markers)
  return {name, id, port, helpers, cpuBefore: helpers.map((h) => cpuTicks(h.pid)), samples: [], movedBytes: 0}
}

/** The details of one target after the rounds: throughput, helper memory idle and after, helper CPU per GiB. */
function summarize(t) {
  const out = {hostPort: t.port, throughputMiBs: {...stats(t.samples), samples: t.samples.map((x) => Math.round(x))}}
  if (!t.helpers) return out
  const cpuSeconds = t.helpers.reduce((s, h, i) => s + (cpuTicks(h.pid) - t.cpuBefore[i]), 0) / CLOCK_TICKS
  const afterProcs = t.helpers.map((h, i) => ({...h, ...memoryOf(h.pid), cpuSeconds: (cpuTicks(h.pid) - t.cpuBefore[i]) / CLOCK_TICKS}))
  return {
    id: t.id.slice(0, 12),
    ...out,
    helpersIdle: t.helpers,
    helpersAfter: afterProcs,
    idle: sumMemory(t.helpers),
    after: sumMemory(afterProcs),
    helperCpuSecondsPerGiB: Math.round((cpuSeconds / (t.movedBytes / (1024 * MiB))) * 100) / 100,
  }
}

/** busybox httpd on the host serving the same file: the loopback ceiling. Returns {port, stop}. */
async function startHostServer(bytes, freePort) {
  const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-www-'))
  writeFileSync(join(dir, 'big'), Buffer.alloc(bytes))
  const port = await freePort()
  const httpd = spawn('/bin/busybox', ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', dir], {stdio: 'ignore'})
  const stop = () => {
    httpd.kill('SIGKILL')
    rmSync(dir, {recursive: true, force: true})
  }
  if (!(await waitHttp(port, bytes))) {
    stop()
    throw new Error('busybox httpd on the host did not answer')
  }
  return {name: 'host', port, samples: [], movedBytes: 0, stop}
}

export async function benchNet(options = {}) {
  const runs = options.runs ?? (options.quick ? 1 : 5)
  const fileMiB = options.quick ? 64 : 256
  const bytes = fileMiB * MiB
  const count = options.quick ? 2 : 4 // downloads per round: 1 GiB per round by default
  const rows = []
  const errors = []
  const details = {fileMiB, downloadsPerRound: count, rounds: runs}
  const notes = [
    `throughput: curl on the host downloads a ${fileMiB} MiB file ${count} times per round from busybox httpd in the container (file in a tmpfs), through the published port; median of ${runs} round(s), interleaved across targets, after a warm-up download`,
    'memory: every process the container adds outside its pid namespace (shim/conmon, fuse-overlayfs, slirp4netns, port proxies); podman\'s per-user pause process is not counted',
  ]
  if (!which('curl')) return {rows, details, notes, errors: ['curl is not installed (apt-get install curl)']}
  const {registry} = await loadHarness()
  const freePort = registry.freePort
  const reg = await startImageRegistry({})
  const image = reg.refs.busybox
  const ctr = await ctrStore({insecure: [reg.host]})
  const podman = options.peers === false ? undefined : await podmanStore()
  const targets = []
  let host
  try {
    host = await startHostServer(bytes, freePort)
    targets.push(host)
    const r = await ctr.run(['pull', image])
    if (r.code !== 0) throw new Error(`ctr-ts pull: ${r.stderr.trim()}`)
    try {
      targets.push(
        await startServer('ctr-ts', {
          bytes,
          freePort,
          markers: [ctr.root, ctr.runRoot],
          start: async (port) => {
            // `-w /` (a single-value flag) right before the image: it stops oclif's greedy parsing of
            // the multiple-value --tmpfs/-p, which otherwise take the image name as one more value.
            const s = await ctr.run(['run', '-d', '--tmpfs', `/srv:size=${fileMiB + 16}m`, '-p', `${port}:80`, '-w', '/', image, ...serverCommand(bytes)])
            if (s.code !== 0) throw new Error(`ctr-ts run -d -p exited ${s.code}: ${s.stderr.trim().split('\n').pop()}`)
            return s.stdout.trim()
          },
        }),
      )
    } catch (err) {
      errors.push(err.message)
      log(`net: ctr-ts failed: ${err.message}`)
    }
    if (podman) {
      try {
        const p = await podman.run(['pull', '--quiet', '--tls-verify=false', image])
        if (p.code !== 0) throw new Error(`podman pull: ${p.stderr.trim()}`)
        targets.push(
          await startServer('podman', {
            bytes,
            freePort,
            markers: [podman.env.XDG_RUNTIME_DIR, podman.env.HOME.replace(/\/home$/, '')],
            start: async (port) => {
              const s = await podman.run(['run', '-d', '--tmpfs', `/srv:size=${fileMiB + 16}m`, '-p', `127.0.0.1:${port}:80`, image, ...serverCommand(bytes)])
              if (s.code !== 0) throw new Error(`podman run -d -p exited ${s.code}: ${s.stderr.trim().split('\n').pop()}`)
              return s.stdout.trim()
            },
          }),
        )
      } catch (err) {
        errors.push(err.message)
        log(`net: podman failed: ${err.message}`)
      }
    }
    // one warm-up download each, then rounds interleaved across targets (host, ctr-ts, podman, host, ...)
    log(`net: ${runs} round(s) of ${count} x ${fileMiB} MiB per target: ${targets.map((t) => t.name).join(', ')}`)
    for (let i = -1; i < runs; i++) {
      for (const t of targets) {
        if (t.failed) continue
        const n = i < 0 ? 1 : count
        try {
          const mibs = await download(t.port, bytes, n)
          t.movedBytes += n * bytes
          if (i >= 0) t.samples.push(mibs)
        } catch (err) {
          t.failed = true
          errors.push(`${t.name}: ${err.message}`)
          log(`net: ${t.name} failed: ${err.message}`)
        }
      }
    }
    for (const t of targets) {
      details[t.name] = summarize(t)
      log(`net: ${t.name} ${details[t.name].throughputMiBs.median} MiB/s`)
    }
  } catch (err) {
    errors.push(err.message)
    log(`net failed: ${err.message}`)
  } finally {
    host?.stop()
    await ctr.cleanup()
    if (podman) await podman.cleanup()
    await reg.stop()
  }
  const c = details['ctr-ts']
  const p = details.podman
  const pn = p ? 'podman' : null
  rows.push(row('net', 'port-forward throughput (-p, 127.0.0.1)', 'MiB/s', c?.throughputMiBs.median, p?.throughputMiBs.median, pn, 'higher'))
  rows.push(row('net', 'port-forward throughput vs host loopback', 'MiB/s', c?.throughputMiBs.median, details.host?.throughputMiBs.median, details.host ? 'host, no container' : null, 'higher'))
  rows.push(row('net', 'helper CPU per GiB forwarded', 's', c?.helperCpuSecondsPerGiB, p?.helperCpuSecondsPerGiB, pn))
  rows.push(row('net', 'container with -p: helpers RSS, idle', 'KiB', c?.idle.rssKiB, p?.idle.rssKiB, pn))
  rows.push(row('net', 'container with -p: helpers PSS, idle', 'KiB', c?.idle.pssKiB, p?.idle.pssKiB, pn))
  rows.push(row('net', 'container with -p: helpers RSS, after transfer', 'KiB', c?.after.rssKiB, p?.after.rssKiB, pn))
  const names = (d) => (d ? d.helpersIdle.map((h) => h.comm).join(', ') : '')
  notes.push(`helpers counted: ctr-ts: ${names(c)}${p ? `; podman: ${names(p)}` : ''}`)
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('net', import.meta.url, benchNet)
