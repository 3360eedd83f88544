#!/usr/bin/env node
// Layer unpacking alone, next to GNU tar: the synthetic gzip layers (3 x ~30 MB) unpacked by
// ctr-ts's unpacker (dist/layer/unpack-main.js, the program `ctr-ts pull` runs in its user
// namespace: gunzip + tar + diffId check + whiteouts + chown) and by `tar -xzpf --same-owner`,
// both as root of a user namespace mapping the user's sub-uid range (unshare --map-auto), both
// one layer at a time; ctr-ts's default of 2 layers at once is reported too. Ratios are
// ctr-ts time / GNU tar time (lower is better).
//
//   node bench/unpack.mjs [--runs 5] [--quick] [--no-peers]
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {ctrCli} from './lib/ctr.mjs'
import {timed, which} from './lib/exec.mjs'
import {loadHarness} from './lib/harness.mjs'
import {buildSyntheticLayers} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {log, row, stats} from './lib/report.mjs'

const MiB = 1024 * 1024
const USERNS = ['unshare', '--map-auto', '--map-root-user', '--']

export async function benchUnpack(options = {}) {
  const runs = options.runs ?? (options.quick ? 2 : 5)
  const large = options.quick ? {layers: 3, mb: 8} : {layers: 3, mb: 30}
  const {cli} = await loadHarness()
  const unpackMain = join(dirname(ctrCli()), '..', 'dist', 'layer', 'unpack-main.js')
  const rows = []
  const errors = []
  const notes = [
    'unpack: both run as root of an `unshare --map-auto --map-root-user` namespace (ownership kept), into fresh directories on the same filesystem; page cache warm (one untimed run each first)',
    'ctr-ts also verifies each layer\'s diffId (sha256 of the tar stream) and applies whiteouts; GNU tar does neither',
  ]
  log(`unpack: building ${large.layers} x ${large.mb} MB synthetic layers`)
  const layers = await buildSyntheticLayers(large)
  const work = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-unpack-'))
  const details = {layers: large.layers, uncompressedMiB: Math.round(layers.reduce((s, l) => s + l.tar.length, 0) / MiB), compressedMiB: Math.round(layers.reduce((s, l) => s + l.blobs.gzip.data.length, 0) / MiB)}
  try {
    const blobs = layers.map((l, i) => {
      const path = join(work, `layer${i}.tar.gz`)
      writeFileSync(path, l.blobs.gzip.data)
      return {path, diffId: l.diffId, mediaType: l.blobs.gzip.mediaType}
    })
    const out = join(work, 'out')
    /** Fresh empty destinations, one per layer. */
    const freshDests = () => blobs.map((_, i) => join(out, `l${i}`)).map((d) => (mkdirSync(d, {recursive: true}), d))
    const ctrUnpack = (concurrency) => async () => {
      const dests = freshDests()
      // the streamed job pull sends: a header, one line per layer, then the end line
      const lines = [{stream: true, canChown: true, concurrency}, ...blobs.map((b, i) => ({blob: b.path, mediaType: b.mediaType, diffId: b.diffId, dest: dests[i]})), {end: true}]
      const jobFile = join(work, 'job.jsonl')
      writeFileSync(jobFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
      const r = await timed('sh', ['-c', `exec "$@" < "${jobFile}"`, 'sh', ...USERNS, process.execPath, unpackMain], {timeoutMs: 300_000})
      if (r.code !== 0) throw new Error(`unpack-main exited ${r.code}: ${r.stderr.trim()}`)
      return r.ms
    }
    const tarUnpack = async () => {
      const dests = freshDests()
      const script = blobs.map((b, i) => `tar -xzpf '${b.path}' --same-owner --numeric-owner -C '${dests[i]}'`).join(' && ')
      const r = await timed(USERNS[0], [...USERNS.slice(1), 'sh', '-c', script], {timeoutMs: 300_000})
      if (r.code !== 0) throw new Error(`tar exited ${r.code}: ${r.stderr.trim()}`)
      return r.ms
    }
    const tools = {'ctr-ts (1 layer at a time)': ctrUnpack(1), 'ctr-ts (2 at a time, as pull does)': ctrUnpack(2)}
    if (options.peers !== false && which('tar')) tools['GNU tar'] = tarUnpack
    const samples = Object.fromEntries(Object.keys(tools).map((k) => [k, []]))
    for (let i = -1; i < runs; i++) {
      for (const [name, fn] of Object.entries(tools)) {
        const ms = await fn()
        if (i >= 0) samples[name].push(ms)
        await cli.removeTree(out) // files owned by sub-uids: removed through a user namespace
      }
    }
    details.tools = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
    const t = details.tools
    const tar = t['GNU tar']?.median
    const label = `unpack ${large.layers}x${large.mb}MB gzip layers`
    rows.push(row('unpack', `${label}, sequential`, 'ms', t['ctr-ts (1 layer at a time)'].median, tar, tar ? 'GNU tar' : null))
    rows.push(row('unpack', `${label}, ctr-ts 2 at a time`, 'ms', t['ctr-ts (2 at a time, as pull does)'].median, tar, tar ? 'GNU tar, sequential' : null))
    log(`unpack: ${Object.entries(t).map(([k, v]) => `${k} ${v.median} ms`).join(', ')}`)
  } catch (err) {
    errors.push(err.message)
    log(`unpack failed: ${err.message}`)
  } finally {
    await cli.removeTree(work)
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('unpack', import.meta.url, benchUnpack)
