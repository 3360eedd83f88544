#!/usr/bin/env node
// Build: wall time of `ctr-ts build` of the multi-stage fixture Dockerfile (test/fixtures/build:
// two busybox stages, COPY --from, ARG, USER, WORKDIR, 3 RUN steps) cold (--no-cache, base image
// already in the store) and cached (a rebuild without changes), next to `buildah bud --layers` in
// its own throw-away storage (overlay through fuse-overlayfs) in the same run.
// Ratios are ctr-ts time / buildah time (lower is better).
//
//   node bench/build.mjs [--runs 3] [--quick] [--no-peers]
import {cpSync, mkdirSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ctrStore} from './lib/ctr.mjs'
import {timed, which} from './lib/exec.mjs'
import {BENCH, loadHarness} from './lib/harness.mjs'
import {startImageRegistry} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {log, row, stats} from './lib/report.mjs'

function buildahStore(base) {
  const bin = which('buildah')
  if (!bin) return undefined
  const runtimeDir = mkdtempSync('/tmp/bbr-')
  const home = join(base, 'buildah-home')
  mkdirSync(home, {recursive: true})
  const env = {...process.env, HOME: home, XDG_RUNTIME_DIR: runtimeDir, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share')}
  const global = ['--root', join(base, 'buildah-storage'), '--runroot', join(runtimeDir, 'containers'), '--storage-driver', 'overlay', '--storage-opt', `overlay.mount_program=${which('fuse-overlayfs') ?? '/usr/bin/fuse-overlayfs'}`]
  return {bin, env, runtimeDir, run: (args, opts = {}) => timed(bin, [...global, ...args], {env, timeoutMs: 600_000, ...opts})}
}

export async function benchBuild(options = {}) {
  const runs = options.runs ?? (options.quick ? 1 : 3)
  log('build: fixtures registry, ctr-ts store, buildah storage')
  const src = await startImageRegistry()
  const h = await loadHarness()
  const store = await ctrStore({insecure: [src.host]})
  const work = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-build-'))
  const ctx = join(work, 'ctx')
  cpSync(join(BENCH, '..', 'test', 'fixtures', 'build'), ctx, {recursive: true})
  const baseRef = src.refs.multilayer
  const buildah = options.peers !== false ? buildahStore(work) : undefined
  const rows = []
  const details = {}
  const errors = []
  const notes = [
    'cold = every step run (--no-cache), the base image already local; cached = the same build again, nothing changed',
    'buildah: bud --layers --isolation chroot (its rootless default needs no runtime), own --root/--runroot, overlay via fuse-overlayfs; ctr-ts runs each RUN in a runc container through its shim',
    'both include process start-up; the machine is shared with other jobs, so absolute times vary between runs',
  ]
  const args = ['--build-arg', `BASE=${baseRef}`, '--build-arg', 'GREETING=hi']
  try {
    const pulled = await store.run(['pull', '-q', baseRef], {timeoutMs: 300_000})
    if (pulled.code !== 0) throw new Error(`ctr-ts pull: ${pulled.stderr.trim()}`)
    if (buildah) {
      const p = await buildah.run(['pull', '--tls-verify=false', '-q', baseRef])
      if (p.code !== 0) throw new Error(`buildah pull: ${p.stderr.trim()}`)
    }
    const tools = [
      {name: 'ctr-ts', build: (cold) => store.run(['build', '-q', ...(cold ? ['--no-cache'] : []), ...args, '-t', 'bench/app:1', ctx], {timeoutMs: 600_000})},
      ...(buildah ? [{name: 'buildah', build: (cold) => buildah.run(['bud', '-q', '--layers', '--isolation', 'chroot', '--tls-verify=false', ...(cold ? ['--no-cache'] : []), ...args, '-t', 'bench/app:1', ctx])}] : []),
    ]
    for (const phase of ['cold', 'cached']) {
      const samples = Object.fromEntries(tools.map((t) => [t.name, []]))
      for (let i = 0; i < runs; i++) {
        for (const t of tools) {
          if (phase === 'cached') await t.build(false) // warm the cache first
          const r = await t.build(phase === 'cold')
          if (r.code !== 0) {
            errors.push(`${phase}: ${t.name}: exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
            continue
          }
          samples[t.name].push(r.ms)
        }
      }
      const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
      details[phase] = s
      rows.push(row('build', `build, fixture Dockerfile, ${phase}`, 'ms', s['ctr-ts'].median, s.buildah?.median ?? null, s.buildah ? 'buildah' : null))
      log(`${phase}: ${Object.entries(s).map(([k, v]) => `${k} ${v.median} ms`).join(', ')}`)
    }
  } finally {
    await store.cleanup()
    await src.stop()
    if (buildah) {
      await timed('fusermount3', ['-u', '-z', join(work, 'buildah-storage', 'overlay')], {timeoutMs: 10_000}).catch(() => undefined)
      await h.cli.removeTree(buildah.runtimeDir)
    }
    await h.cli.removeTree(work)
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('build', import.meta.url, benchBuild)
