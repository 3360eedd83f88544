#!/usr/bin/env node
// Push: median wall time of `ctr-ts push` of an image from its store to a fresh repository of a
// second local docker-registry (nothing there to mount from), next to `skopeo copy` of the same
// image from a local OCI layout to a fresh repository of that registry, in the same run: the
// 3-layer test fixture and a large synthetic image (3 x ~30 MB layers on the busybox base).
// Ratios are ctr-ts time / skopeo time (lower is better).
//
//   node bench/push.mjs [--runs 5] [--quick] [--no-peers]
import {mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {ctrStore} from './lib/ctr.mjs'
import {timed} from './lib/exec.mjs'
import {loadHarness} from './lib/harness.mjs'
import {startImageRegistry} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {skopeoCopier} from './lib/podman.mjs'
import {log, row, stats} from './lib/report.mjs'

const MiB = 1024 * 1024

export async function benchPush(options = {}) {
  const runs = options.runs ?? (options.quick ? 2 : 5)
  const large = options.quick ? {layers: 3, mb: 8} : {layers: 3, mb: 30}
  log(`push: building fixtures and a ${large.layers} x ${large.mb} MB synthetic image, starting two registries`)
  const src = await startImageRegistry({large})
  const h = await loadHarness()
  const dst = await h.registry.startRegistry()
  const store = await ctrStore({insecure: [src.host, dst.host]})
  const skopeo = options.peers !== false ? skopeoCopier() : undefined
  const layoutDir = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-push-'))
  const skopeoEnv = {...process.env, HOME: layoutDir, XDG_RUNTIME_DIR: layoutDir}
  const rows = []
  const details = {}
  const errors = []
  const notes = [
    'push = to a fresh repository of a second registry every run (no cross-repository mount possible); ctr-ts pushes from its store, skopeo copies from a local OCI layout holding the same blobs, with a fresh HOME each run (no blob info cache to mount from)',
    'both include process start-up; the machine is shared with other jobs, so absolute times vary between runs',
  ]
  let n = 0
  try {
    for (const image of ['multilayer', 'large']) {
      const ref = src.refs[image]
      const size = src.sizes[image]
      const pulled = await store.run(['pull', '-q', ref], {timeoutMs: 300_000})
      if (pulled.code !== 0) throw new Error(`ctr-ts pull ${ref}: ${pulled.stderr.trim()}`)
      const layout = join(layoutDir, image)
      if (skopeo) {
        const r = await timed(skopeo.bin, ['copy', '--quiet', '--src-tls-verify=false', `docker://${ref}`, `oci:${layout}:latest`], {env: skopeoEnv})
        if (r.code !== 0) throw new Error(`skopeo copy to a layout: ${r.stderr.trim()}`)
      }
      const tools = [
        {name: 'ctr-ts', push: (dest) => store.run(['push', '-q', ref, dest], {timeoutMs: 300_000})},
        ...(skopeo
          ? [
              {
                name: 'skopeo',
                // a fresh HOME each run: skopeo's blob info cache would otherwise mount the blobs
                // from the repositories of earlier runs instead of uploading them
                push: (dest) => {
                  const home = mkdtempSync(join(layoutDir, 'home-'))
                  return timed(skopeo.bin, ['copy', '--quiet', '--dest-tls-verify=false', `oci:${layout}:latest`, `docker://${dest}`], {env: {...process.env, HOME: home, XDG_RUNTIME_DIR: home}, timeoutMs: 300_000})
                },
              },
            ]
          : []),
      ]
      const samples = Object.fromEntries(tools.map((t) => [t.name, []]))
      // one untimed warm-up each, then interleaved timed runs
      for (let i = -1; i < runs; i++) {
        for (const t of tools) {
          const dest = `${dst.host}/bench/${t.name}-${image}-${n++}:v1`
          const r = await t.push(dest)
          if (r.code !== 0) {
            errors.push(`${image}: ${t.name}: exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
            continue
          }
          if (i >= 0) samples[t.name].push(r.ms)
        }
      }
      const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
      details[image] = {ref, ...size, compressedMiB: Math.round((size.compressedBytes / MiB) * 10) / 10, tools: s}
      const label = image === 'large' ? `push, ${large.layers}x${large.mb}MB image (${details[image].compressedMiB} MiB gz)` : 'push, 3-layer fixture'
      rows.push(row('push', label, 'ms', s['ctr-ts'].median, s.skopeo?.median ?? null, s.skopeo ? 'skopeo' : null))
      log(`${image}: ${Object.entries(s).map(([k, v]) => `${k} ${v.median} ms`).join(', ')}`)
    }
  } finally {
    await store.cleanup()
    await dst.stop()
    await src.stop()
    await h.cli.removeTree(layoutDir)
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('push', import.meta.url, benchPush)
