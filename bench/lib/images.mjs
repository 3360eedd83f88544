// The images the benches pull and run, served by a throw-away docker-registry on 127.0.0.1:
// the test fixtures (busybox, the 3-layer `multilayer` image, `web`) built by the e2e harness
// from busybox-static, plus a large synthetic image so that transfer and unpack dominate
// process start-up.
import {createCipheriv} from 'node:crypto'
import {loadHarness} from './harness.mjs'

async function pushImage(client, repo, reference, img) {
  for (const b of [img.config, ...img.layers]) await client.pushBlob(repo, b.data, b.digest)
  await client.pushManifest(repo, reference, img.manifest, img.manifestMediaType)
  return img
}

/** Deterministic pseudo-random bytes (AES-128-CTR keystream over zeros). */
function randomBytes(seed, size) {
  const key = Buffer.alloc(16)
  key.write(seed)
  const c = createCipheriv('aes-128-ctr', key, Buffer.alloc(16))
  return Buffer.concat([c.update(Buffer.alloc(size)), c.final()])
}

const TEXT = Buffer.from(
  'Lorem ipsum dolor sit amet, consectetur adipiscing elit, sed do eiusmod tempor incididunt ut labore et dolore magna aliqua. ' +
    'export function main(argv) { return argv.map((a) => a.trim()).filter(Boolean) }\n',
)

/** "Random-ish" content: half incompressible bytes, half text, like binaries next to sources. */
function randomish(seed, size) {
  const out = Buffer.alloc(size)
  const half = Math.floor(size / 2)
  randomBytes(seed, half).copy(out, 0)
  for (let off = half; off < size; off += TEXT.length) TEXT.copy(out, off, 0, Math.min(TEXT.length, size - off))
  return out
}

/**
 * Layer entries of about `mb` MB: many small files (4-64 KiB) plus a few big ones (1-4 MiB),
 * in a few directories, as a real image layer has.
 */
function syntheticLayerEntries(index, mb) {
  const target = mb * 1024 * 1024
  const entries = [{name: `opt`, type: 'directory'}, {name: `opt/l${index}`, type: 'directory'}]
  let total = 0
  let n = 0
  const smallBudget = target * 0.3
  for (let d = 0; total < smallBudget; d++) {
    const dir = `opt/l${index}/d${d}`
    entries.push({name: dir, type: 'directory'})
    for (let f = 0; f < 50 && total < smallBudget; f++, n++) {
      const size = 4096 * (1 + ((n * 7919) % 16))
      entries.push({name: `${dir}/f${f}.bin`, type: 'file', mode: 0o644, content: randomish(`l${index}s${n}`, size)})
      total += size
    }
  }
  for (let b = 0; total < target; b++) {
    const size = Math.min(target - total, (1 + (b % 4)) * 1024 * 1024)
    entries.push({name: `opt/l${index}/big${b}.bin`, type: 'file', mode: 0o755, content: randomish(`l${index}b${b}`, size)})
    total += size
  }
  return entries
}

/**
 * `large.layers` gzip layers of about `large.mb` MB each (uncompressed), in the harness's
 * BuiltLayer shape: {tar, diffId, createdBy, blobs: {gzip: {data, digest, mediaType}}}.
 */
export async function buildSyntheticLayers(large) {
  const h = await loadHarness()
  const layers = []
  for (let i = 0; i < large.layers; i++) {
    const tar = await h.tar.buildTar(syntheticLayerEntries(i, large.mb))
    const data = h.tar.compress(tar, 'gzip')
    const blob = {data, digest: h.push.sha256(data), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip'}
    layers.push({tar, diffId: h.push.sha256(tar), createdBy: `ADD synthetic layer ${i}`, blobs: {gzip: blob, zstd: blob, none: blob}})
  }
  return layers
}

/**
 * Entries of a source-tree-like layer of `files` regular files (issue 12's "20 000-file layer"):
 * 100 files per directory in a two-level tree, sizes 0.1-4 KiB of text (a third of them a bit of
 * random data, like small binaries), some owned by uid 1000, one symlink every 50 files.
 */
function manyFilesEntries(files) {
  const entries = [{name: 'src', type: 'directory'}]
  for (let n = 0; n < files; n++) {
    const d = Math.floor(n / 100)
    const dir = `src/p${Math.floor(d / 20)}/m${d}`
    if (n % 100 === 0) {
      if (d % 20 === 0) entries.push({name: `src/p${Math.floor(d / 20)}`, type: 'directory'})
      entries.push({name: dir, type: 'directory', uid: d % 3 === 0 ? 1000 : 0, gid: d % 3 === 0 ? 1000 : 0})
    }
    const size = 100 + ((n * 7919) % 4000)
    const content = n % 3 === 0 ? randomish(`f${n}`, size) : Buffer.alloc(size, TEXT.subarray(n % 40))
    entries.push({name: `${dir}/file${n}.c`, type: 'file', mode: n % 10 === 0 ? 0o755 : 0o644, uid: d % 3 === 0 ? 1000 : 0, gid: d % 3 === 0 ? 1000 : 0, content})
    if (n % 50 === 49) entries.push({name: `${dir}/link${n}`, type: 'symlink', linkname: `file${n}.c`})
  }
  return entries
}

/** One gzip layer of `files` small files (see manyFilesEntries), in buildSyntheticLayers' shape. */
export async function buildManyFilesLayer(files = 20_000) {
  const h = await loadHarness()
  const tar = await h.tar.buildTar(manyFilesEntries(files))
  const data = h.tar.compress(tar, 'gzip')
  const blob = {data, digest: h.push.sha256(data), mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip'}
  return {tar, diffId: h.push.sha256(tar), createdBy: `ADD ${files} files`, entries: files, blobs: {gzip: blob, zstd: blob, none: blob}}
}

/**
 * Starts a registry and pushes the fixtures. `large` = {layers, mb} adds fixtures/large:gzip.
 * Returns {host, refs: {busybox, multilayer, web, large?}, sizes, stop()}.
 */
export async function startImageRegistry({large} = {}) {
  const h = await loadHarness()
  const built = await h.fixtures.buildFixtures()
  const reg = await h.registry.startRegistry()
  try {
    const client = new h.push.RegistryClient(reg.host)
    const refs = {}
    const sizes = {}
    const add = async (key, repo, tag, img) => {
      await pushImage(client, repo, tag, img)
      refs[key] = `${reg.host}/${repo}:${tag}`
      sizes[key] = {
        layers: img.layers.length,
        compressedBytes: img.layers.reduce((s, l) => s + l.data.length, 0),
      }
    }
    await add('busybox', 'fixtures/busybox', 'latest', built.busybox)
    await add('multilayer', 'fixtures/multilayer', 'gzip', built.multilayer.gzip)
    await add('web', 'fixtures/web', 'latest', built.web)
    if (large) {
      const layers = [built.layers.base, ...(await buildSyntheticLayers(large))]
      const img = h.fixtures.buildImage({layers, compression: 'gzip'})
      await add('large', 'fixtures/large', 'gzip', img)
      sizes.large.uncompressedBytes = layers.reduce((s, l) => s + l.tar.length, 0)
    }
    return {host: reg.host, refs, sizes, stop: () => reg.stop()}
  } catch (err) {
    await reg.stop()
    throw err
  }
}
