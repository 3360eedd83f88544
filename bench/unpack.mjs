#!/usr/bin/env node
// Layer unpacking alone, next to GNU tar: a layer of 20 000 small files (a source tree: where the
// cost per entry shows) and the synthetic gzip layers (3 x ~30 MB, few big files) unpacked by
// ctr-ts's unpacker (dist/layer/unpack-main.js, the program `ctr-ts pull` runs in its user
// namespace: gunzip + tar + diffId check + whiteouts + chown) and by `tar -xzpf --same-owner`,
// both as root of a user namespace mapping the user's sub-uid range (unshare --map-auto), both
// one layer at a time; ctr-ts with every layer at once (as pull does) is reported too. Ratios are
// ctr-ts time / GNU tar time (lower is better).
//
//   node bench/unpack.mjs [--runs 5] [--quick] [--no-peers]
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {ctrCli} from './lib/ctr.mjs'
import {timed, which} from './lib/exec.mjs'
import {loadHarness} from './lib/harness.mjs'
import {buildManyFilesLayer, buildSyntheticLayers} from './lib/images.mjs'
import {isMain, runStandalone} from './lib/main.mjs'
import {log, median, row, stats} from './lib/report.mjs'

const MiB = 1024 * 1024
const USERNS = ['unshare', '--map-auto', '--map-root-user', '--']
const BENCH_DIR = dirname(fileURLToPath(import.meta.url))

export async function benchUnpack(options = {}) {
  const runs = options.runs ?? (options.quick ? 2 : 5)
  const large = options.quick ? {layers: 3, mb: 8} : {layers: 3, mb: 30}
  const manyFiles = options.quick ? 5_000 : 20_000
  const {cli} = await loadHarness()
  const unpackMain = join(dirname(ctrCli()), '..', 'dist', 'layer', 'unpack-main.js')
  const rows = []
  const errors = []
  const notes = [
    'unpack: both run as root of an `unshare --map-auto --map-root-user` namespace (ownership kept), into fresh directories on the same filesystem; page cache warm (one untimed run each first)',
    'ctr-ts also verifies each layer\'s diffId (sha256 of the tar stream), checks every path and applies whiteouts; GNU tar does none of that',
    'unpack: the floor row times only the file-system calls (mkdir; open, write, fchown, futimes, close per file; symlink, lchown, lutimes) a Node program makes to re-create the tree GNU tar unpacked, from memory, in one thread (bench/lib/fs-floor.mjs): what any unpacker whose file-system calls are Node\'s pays at least; GNU tar does the same calls from C',
    'unpack: what a run unpacked is removed only at the end of the bench: on ext4, creating files soon after deleting many makes inode allocation scan the recently freed inodes, which would charge one tool for the other\'s deletions',
  ]
  log(`unpack: building ${large.layers} x ${large.mb} MB synthetic layers and a ${manyFiles}-file layer`)
  const layers = await buildSyntheticLayers(large)
  const many = await buildManyFilesLayer(manyFiles)
  const work = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-unpack-'))
  const details = {
    layers: large.layers,
    uncompressedMiB: Math.round(layers.reduce((s, l) => s + l.tar.length, 0) / MiB),
    compressedMiB: Math.round(layers.reduce((s, l) => s + l.blobs.gzip.data.length, 0) / MiB),
    manyFiles: {files: manyFiles, uncompressedMiB: Math.round(many.tar.length / MiB), compressedMiB: Math.round(many.blobs.gzip.data.length / MiB)},
  }
  try {
    const write = (l, name) => {
      const path = join(work, name)
      writeFileSync(path, l.blobs.gzip.data)
      return {path, diffId: l.diffId, mediaType: l.blobs.gzip.mediaType}
    }
    const sets = {
      large: layers.map((l, i) => write(l, `layer${i}.tar.gz`)),
      many: [write(many, 'many.tar.gz')],
    }
    let n = 0
    /** Fresh empty destinations, one per layer (removed at the end only: see the note). */
    const freshDests = (blobs) => {
      const out = join(work, `out${n++}`)
      return blobs.map((_, i) => join(out, `l${i}`)).map((d) => (mkdirSync(d, {recursive: true}), d))
    }
    const ctrUnpack = (blobs, concurrency) => async () => {
      const dests = freshDests(blobs)
      // the streamed job pull sends: a header, one line per layer, then the end line
      const lines = [{stream: true, canChown: true, concurrency}, ...blobs.map((b, i) => ({blob: b.path, mediaType: b.mediaType, diffId: b.diffId, dest: dests[i]})), {end: true}]
      const jobFile = join(work, 'job.jsonl')
      writeFileSync(jobFile, lines.map((l) => JSON.stringify(l)).join('\n') + '\n')
      const r = await timed('sh', ['-c', `exec "$@" < "${jobFile}"`, 'sh', ...USERNS, process.execPath, unpackMain], {timeoutMs: 300_000})
      if (r.code !== 0) throw new Error(`unpack-main exited ${r.code}: ${r.stderr.trim()}`)
      return r.ms
    }
    const tarUnpack = (blobs) => async () => {
      const dests = freshDests(blobs)
      const script = blobs.map((b, i) => `tar -xzpf '${b.path}' --same-owner --numeric-owner -C '${dests[i]}'`).join(' && ')
      const r = await timed(USERNS[0], [...USERNS.slice(1), 'sh', '-c', script], {timeoutMs: 300_000})
      if (r.code !== 0) throw new Error(`tar exited ${r.code}: ${r.stderr.trim()}`)
      return r.ms
    }
    const withTar = options.peers !== false && which('tar')
    // The floor of a Node unpacker: the same files made by Node's synchronous fs calls alone (the
    // calls ctr-ts's unpacking thread makes), from a tree GNU tar unpacked once, untimed.
    let fsFloor
    if (withTar) {
      const [ref] = freshDests(sets.many)
      const r = await timed(USERNS[0], [...USERNS.slice(1), 'tar', '-xzpf', sets.many[0].path, '--same-owner', '--numeric-owner', '-C', ref], {timeoutMs: 300_000})
      if (r.code !== 0) throw new Error(`tar exited ${r.code}: ${r.stderr.trim()}`)
      fsFloor = async () => {
        const [dest] = freshDests(sets.many)
        const f = await timed(USERNS[0], [...USERNS.slice(1), process.execPath, join(BENCH_DIR, 'lib', 'fs-floor.mjs'), ref, dest], {timeoutMs: 300_000})
        if (f.code !== 0) throw new Error(`fs-floor exited ${f.code}: ${f.stderr.trim()}`)
        return Number(f.stdout.trim())
      }
    }
    const groups = {
      many: {'ctr-ts': ctrUnpack(sets.many, 1), ...(withTar ? {'GNU tar': tarUnpack(sets.many), 'Node fs calls alone': fsFloor} : {})},
      large: {
        'ctr-ts (1 layer at a time)': ctrUnpack(sets.large, 1),
        'ctr-ts (all layers at once, as pull does)': ctrUnpack(sets.large, sets.large.length),
        ...(withTar ? {'GNU tar': tarUnpack(sets.large)} : {}),
      },
    }
    details.tools = {}
    for (const [group, tools] of Object.entries(groups)) {
      const samples = Object.fromEntries(Object.keys(tools).map((k) => [k, []]))
      for (let i = -1; i < runs; i++) {
        for (const [name, fn] of Object.entries(tools)) {
          const ms = await fn()
          if (i >= 0) samples[name].push(ms)
        }
      }
      details.tools[group] = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, {...stats(v), samplesMs: v.map((x) => Math.round(x))}]))
      // the median of the per-round ratios too: steadier than the ratio of medians on a loaded machine
      const tarSamples = samples['GNU tar']
      if (tarSamples) {
        for (const [name, v] of Object.entries(samples)) {
          if (name !== 'GNU tar') details.tools[group][name].roundRatioMedian = median(v.map((x, k) => x / tarSamples[k]))
        }
      }
      log(`unpack ${group}: ${Object.entries(details.tools[group]).map(([k, v]) => `${k} ${v.median} ms`).join(', ')}`)
    }
    const t = details.tools
    const tarMany = t.many['GNU tar']?.median
    rows.push(row('unpack', `unpack a ${manyFiles}-file layer (${details.manyFiles.uncompressedMiB} MiB, gzip)`, 'ms', t.many['ctr-ts'].median, tarMany, tarMany ? 'GNU tar' : null))
    if (t.many['Node fs calls alone']) {
      rows.push(row('unpack', `floor: the same ${manyFiles} files made by Node's synchronous fs calls alone (no gzip, tar, hash or checks)`, 'ms', t.many['Node fs calls alone'].median, tarMany, 'GNU tar, whole unpack'))
    }
    const tar = t.large['GNU tar']?.median
    const label = `unpack ${large.layers}x${large.mb}MB gzip layers`
    rows.push(row('unpack', `${label}, sequential`, 'ms', t.large['ctr-ts (1 layer at a time)'].median, tar, tar ? 'GNU tar' : null))
    rows.push(row('unpack', `${label}, ctr-ts all at once`, 'ms', t.large['ctr-ts (all layers at once, as pull does)'].median, tar, tar ? 'GNU tar, sequential' : null))
  } catch (err) {
    errors.push(err.message)
    log(`unpack failed: ${err.message}`)
  } finally {
    await cli.removeTree(work)
  }
  return {rows, details, notes, errors}
}

if (isMain(import.meta.url)) await runStandalone('unpack', import.meta.url, benchUnpack)
