#!/usr/bin/env node
// Cold pull: median wall time of `ctr-ts pull` into a fresh store (new CTR_TS_ROOT every run)
// from a docker-registry on 127.0.0.1, next to `skopeo copy` into a fresh OCI layout (download
// only: skopeo does not unpack) and `podman pull` into fresh podman storage (download + unpack),
// for the 3-layer test fixture and for a large synthetic image (3 x ~30 MB layers) where transfer
// and unpack dominate start-up. Ratios are ctr-ts time / peer time (lower is better).
//
//   node bench/pull.mjs [--runs 5] [--quick] [--no-peers]
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {startImageRegistry} from './lib/images.mjs'
import {ctrStore} from './lib/ctr.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {podmanStore, skopeoCopier} from './lib/podman.mjs'
import {log, row, stats} from './lib/report.mjs'

const MiB = 1024 * 1024

/** One cold pull per tool; each returns {ms} or throws. */
function pullers(registryHost, peers, compileCache) {
  const tools = [
    {
      name: 'ctr-ts',
      async pull(ref) {
        const store = await ctrStore({insecure: [registryHost]})
        // a fresh image store, but Node's compile cache kept from one pull to the next, as a
        // user's is after their first ctr-ts command (each store has its own XDG_CACHE_HOME)
        store.env.NODE_COMPILE_CACHE = compileCache
        try {
          const r = await store.run(['pull', ref], {timeoutMs: 300_000})
          if (r.code !== 0) throw new Error(`ctr-ts pull exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
          return r.ms
        } finally {
          await store.cleanup()
        }
      },
    },
  ]
  if (!peers) return tools
  const skopeo = skopeoCopier()
  if (skopeo) {
    tools.push({
      name: 'skopeo',
      async pull(ref) {
        const r = await skopeo.copy(ref)
        if (r.code !== 0) throw new Error(`skopeo copy exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
        return r.ms
      },
    })
  }
  tools.push({
    name: 'podman',
    async pull(ref) {
      const p = await podmanStore()
      if (!p) return undefined
      try {
        const r = await p.run(['pull', '--quiet', '--tls-verify=false', ref], {timeoutMs: 300_000})
        if (r.code !== 0) throw new Error(`podman pull exited ${r.code}: ${r.stderr.trim().split('\n').pop()}`)
        return r.ms
      } finally {
        await p.cleanup()
      }
    },
  })
  return tools
}

export async function benchPull(options = {}) {
  const runs = options.runs ?? (options.quick ? 2 : 5)
  const large = options.quick ? {layers: 3, mb: 8} : {layers: 3, mb: 30}
  log(`pull: building fixtures and a ${large.layers} x ${large.mb} MB synthetic image, starting a registry`)
  const reg = await startImageRegistry({large})
  const compileCache = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-compile-cache-'))
  process.once('exit', () => rmSync(compileCache, {recursive: true, force: true}))
  const rows = []
  const details = {}
  const errors = []
  const notes = [
    'pull = fresh store every run (ctr-ts: new CTR_TS_ROOT; podman: new --root/--runroot/XDG_RUNTIME_DIR, so its user-namespace pause process and database are created each time too; skopeo: new OCI layout dir)',
    'ctr-ts keeps Node\'s compile cache between pulls (NODE_COMPILE_CACHE), as a user\'s ctr-ts does after its first command; the image store is fresh every run',
    'skopeo copy only downloads and verifies blobs (no unpacking): it is a floor for the transfer, not a full pull',
  ]
  try {
    const tools = pullers(reg.host, options.peers !== false, compileCache)
    for (const image of ['multilayer', 'large']) {
      const ref = reg.refs[image]
      const size = reg.sizes[image]
      const samples = Object.fromEntries(tools.map((t) => [t.name, []]))
      const failed = new Set()
      // one untimed warm-up each (page cache, registry), then interleaved timed runs
      for (let i = -1; i < runs; i++) {
        for (const t of tools) {
          if (failed.has(t.name)) continue
          try {
            const ms = await t.pull(ref)
            if (ms === undefined) {
              failed.add(t.name)
              continue
            }
            if (i >= 0) samples[t.name].push(ms)
          } catch (err) {
            failed.add(t.name)
            errors.push(`${image}: ${t.name}: ${err.message}`)
            log(`${image}: ${t.name} failed: ${err.message}`)
          }
        }
      }
      const s = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
      details[image] = {ref, ...size, compressedMiB: Math.round((size.compressedBytes / MiB) * 10) / 10, tools: s}
      const label = image === 'large' ? `cold pull, ${large.layers}x${large.mb}MB image (${details[image].compressedMiB} MiB gz)` : `cold pull, 3-layer fixture`
      for (const peer of ['skopeo', 'podman']) {
        if (!s[peer] || s[peer].runs === 0) continue
        rows.push(row('pull', label, 'ms', s['ctr-ts'].median, s[peer].median, peer))
      }
      if (!rows.some((r) => r.metric === label)) rows.push(row('pull', label, 'ms', s['ctr-ts'].median, null, null))
      log(`${image}: ${Object.entries(s).map(([k, v]) => `${k} ${v.median} ms`).join(', ')}`)
    }
  } finally {
    await reg.stop()
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('pull', import.meta.url, benchPull)
