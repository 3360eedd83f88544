#!/usr/bin/env node
// The Docker Engine API service (issue 15): median wall time of Debian's docker client
// `docker run --rm IMAGE true` through `ctr-ts system service`'s socket, next to `ctr-ts run
// --rm IMAGE true` (the CLI alone) and next to the same docker client through `podman system
// service`; and the service's resident memory (VmRSS, PSS) idle, and after the runs.
// Ratios are ctr-ts / podman (lower is better). A complete run (with podman, not --quick, no
// errors) writes the committed bench/results/API.json and API.md.
//
//   node bench/api.mjs [--runs 10] [--quick] [--no-peers]
import {spawn} from 'node:child_process'
import {existsSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ctrStore} from './lib/ctr.mjs'
import {timed} from './lib/exec.mjs'
import {startImageRegistry} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {latestMarkdown} from './lib/markdown.mjs'
import {podmanStore} from './lib/podman.mjs'
import {memoryOf, sleep, waitFor} from './lib/proc.mjs'
import {log, machineInfo, resultsDir, row, stats} from './lib/report.mjs'

const DOCKER = process.env.CTR_TS_BENCH_DOCKER ?? '/usr/bin/docker'

const must = (what) => (r) => {
  if (r.code !== 0) throw new Error(`${what} exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
  return r
}

/** Starts `cmd args` (a service listening on `socket`) and waits for the socket. */
async function startService(cmd, args, env, socket) {
  const child = spawn(cmd, args, {env, stdio: ['ignore', 'ignore', 'pipe']})
  let err = ''
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)))
  const up = await waitFor(() => existsSync(socket) || child.exitCode !== null, 30_000)
  if (!up || child.exitCode !== null) throw new Error(`${cmd} ${args.join(' ')} did not start: ${err.trim().split('\n').pop()}`)
  return {
    child,
    async stop() {
      if (child.exitCode !== null) return
      child.kill('SIGTERM')
      await new Promise((r) => child.once('close', r))
    },
  }
}

export async function benchApi(options = {}) {
  const runs = options.runs ?? (options.quick ? 3 : 10)
  const reg = await startImageRegistry({})
  const image = reg.refs.busybox
  const ctr = await ctrStore({insecure: [reg.host]})
  const podman = options.peers === false ? undefined : await podmanStore()
  const dockerConfig = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-docker-'))
  const rows = []
  const errors = []
  const notes = [
    `\`docker\` is Debian's client (${DOCKER}), never dockerd; the image is pulled first; runs interleaved (ctr-ts CLI, docker → ctr-ts, docker → podman), after one untimed warm-up each`,
    'service memory: VmRSS and PSS of the `ctr-ts system service` process (node), 2 s after it started, and after the timed runs',
  ]
  const details = {image, runs}
  const services = []
  try {
    must('ctr-ts pull')(await ctr.run(['pull', image]))
    const ctrSock = join(ctr.runRoot, 'api.sock')
    const svc = await startService(process.execPath, [ctr.cli, 'system', 'service', '--time', '0', `unix://${ctrSock}`], ctr.env, ctrSock)
    services.push(svc)
    await sleep(2000)
    details.ctrServiceIdle = memoryOf(svc.child.pid)
    const dockerEnv = (sock) => ({...process.env, DOCKER_HOST: `unix://${sock}`, DOCKER_CONFIG: dockerConfig})
    const fns = {
      'ctr-ts run --rm': async () => must('ctr-ts run --rm')(await ctr.run(['run', '--rm', image, 'true'])).ms,
      'docker run --rm → ctr-ts': async () => must('docker → ctr-ts')(await timed(DOCKER, ['run', '--rm', image, 'true'], {env: dockerEnv(ctrSock)})).ms,
    }
    if (podman) {
      must('podman pull')(await podman.run(['pull', '--quiet', '--tls-verify=false', image]))
      const podSock = join(podman.env.XDG_RUNTIME_DIR, 'podman-api.sock')
      const psvc = await startService(podman.bin, [...podman.globalArgs, 'system', 'service', '--time', '0', `unix://${podSock}`], podman.env, podSock)
      services.push(psvc)
      await sleep(2000)
      details.podmanServiceIdle = memoryOf(psvc.child.pid)
      fns['docker run --rm → podman'] = async () => must('docker → podman')(await timed(DOCKER, ['run', '--rm', image, 'true'], {env: dockerEnv(podSock)})).ms
    }
    const samples = Object.fromEntries(Object.keys(fns).map((k) => [k, []]))
    for (let i = -1; i < runs; i++) {
      for (const [name, fn] of Object.entries(fns)) {
        const ms = await fn()
        if (i >= 0) samples[name].push(ms)
      }
    }
    details.times = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
    details.ctrServiceAfter = memoryOf(svc.child.pid)
    const t = details.times
    const p = t['docker run --rm → podman']
    rows.push(row('api', '`docker run --rm busybox true` through the service socket', 'ms', t['docker run --rm → ctr-ts'].median, p?.median, p && 'podman system service'))
    rows.push(row('api', '`ctr-ts run --rm busybox true` (the CLI, no service)', 'ms', t['ctr-ts run --rm'].median, p?.median, p && 'docker → podman service'))
    rows.push(row('api', 'service RSS, idle', 'KiB', details.ctrServiceIdle?.rssKiB, details.podmanServiceIdle?.rssKiB, podman && 'podman system service'))
    rows.push(row('api', 'service PSS, idle', 'KiB', details.ctrServiceIdle?.pssKiB, details.podmanServiceIdle?.pssKiB, podman && 'podman system service'))
    rows.push(row('api', `service RSS after ${runs * Object.keys(fns).length} runs`, 'KiB', details.ctrServiceAfter?.rssKiB, undefined, undefined))
  } catch (err) {
    errors.push(err.message)
    log(`api failed: ${err.message}`)
  } finally {
    for (const s of services) await s.stop()
    await ctr.cleanup()
    if (podman) await podman.cleanup()
    await reg.stop()
  }
  if (isMain(import.meta.url) && !options.quick && podman && errors.length === 0) writeCommitted({rows, notes, details, options})
  return {rows, details, notes, errors}
}

function writeCommitted(result) {
  const doc = {bench: 'api', machine: machineInfo(), seconds: 0, ...result}
  const dir = resultsDir()
  writeFileSync(join(dir, 'API.json'), JSON.stringify(doc, null, 2) + '\n')
  const md = latestMarkdown(doc)
    .replace('# ctr-ts benchmark results', '# ctr-ts benchmark: the Docker Engine API service')
    .replace(/Written by [^\n]*\n[^\n]*\n/, 'Written by `node bench/api.mjs` (a complete run: with podman, not --quick). Ratios are ctr-ts / podman.\n')
    .replace(/- duration: [^\n]*\n/, '')
  writeFileSync(join(dir, 'API.md'), md)
  log(`committed results: ${join(dir, 'API.md')} and API.json`)
}

if (isMain(import.meta.url)) await runStandalone('api', import.meta.url, benchApi)
