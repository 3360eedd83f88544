import {createHash} from 'node:crypto'
import {createReadStream, createWriteStream} from 'node:fs'
import {mkdir, mkdtemp, open, readFile, rm} from 'node:fs/promises'
import {dirname, join, posix} from 'node:path'
import {Readable, type Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGunzip} from 'node:zlib'
import {extract as tarExtract} from 'tar-stream'
import type {Context} from '../context.js'
import {IntegrityError, UsageError} from '../errors.js'
import {sniffCompression} from '../layer/decompress.js'
import {isDigest} from '../oci/digest.js'
import {parseJsonDocument} from '../oci/media-type.js'
import {MediaType, type ImageIndex, type ImageManifest, type LayerRecord} from '../oci/types.js'
import {ensureDir} from '../paths.js'
import {isReference, parseReference} from '../reference/parse.js'
import {writeBlobStream} from '../store/content.js'
import {createProcessLease, type ProcessLease} from '../store/leases.js'
import {recordLocalImage} from './local-image.js'
import {selectManifest, wantedPlatform} from './platform.js'

export interface LoadResult {
  /** Normalized references loaded. */
  refs: string[]
  /** Images in the archive without a name (not kept). */
  untagged: string[]
}

/** The input, gunzipped when it starts with the gzip magic. */
async function plainTar(input: NodeJS.ReadableStream): Promise<Readable> {
  const it = (input as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  const first = await it.next()
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value)
  const all = Readable.from(
    (async function* () {
      if (head.length > 0) yield head
      for (;;) {
        const n = await it.next()
        if (n.done) return
        yield Buffer.from(n.value)
      }
    })(),
  )
  if (sniffCompression(head) === 'gzip') return all.pipe(createGunzip())
  return all
}

/** Extracts the regular files of the archive under `dir`; returns the names (normalized) found. */
async function extractArchive(input: Readable, dir: string): Promise<Set<string>> {
  const names = new Set<string>()
  const extract = tarExtract()
  const done = (async () => {
    for await (const entry of extract) {
      const name = posix.normalize(entry.header.name).replace(/^(\.\/)+/, '').replace(/\/$/, '')
      if (entry.header.type !== 'file' || name === '' || name === '.' || name.startsWith('../') || name === '..' || posix.isAbsolute(name)) {
        entry.resume()
        continue
      }
      const path = join(dir, name)
      await mkdir(dirname(path), {recursive: true})
      await pipeline(entry, createWriteStream(path, {mode: 0o600}))
      names.add(name)
    }
  })()
  await Promise.all([pipeline(input, extract as unknown as Writable), done])
  return names
}

async function fileDigest(path: string): Promise<string> {
  const hash = createHash('sha256')
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer)
  return `sha256:${hash.digest('hex')}`
}

async function head(path: string): Promise<Buffer> {
  const fh = await open(path, 'r')
  try {
    const buf = Buffer.alloc(8)
    const {bytesRead} = await fh.read(buf, 0, 8, 0)
    return buf.subarray(0, bytesRead)
  } finally {
    await fh.close()
  }
}

/** Stores an archive file as a blob; checks its digest when the archive names it. */
async function storeFile(ctx: Context, lease: ProcessLease, path: string, expected?: string): Promise<{digest: string; size: number}> {
  const stored = await writeBlobStream(ctx.store, createReadStream(path))
  await lease.add({content: [stored.digest]})
  if (expected && stored.digest !== expected) throw new IntegrityError(`archive: ${posix.basename(path)} does not match its digest ${expected}`)
  return stored
}

function member(names: Set<string>, name: string, what: string): string {
  const n = posix.normalize(name).replace(/^(\.\/)+/, '')
  if (!names.has(n)) throw new IntegrityError(`archive: ${what} ${JSON.stringify(name)} is not in the archive`)
  return n
}

async function loadDocker(ctx: Context, dir: string, names: Set<string>, lease: ProcessLease, result: LoadResult): Promise<void> {
  const entries = parseJsonDocument(await readFile(join(dir, 'manifest.json')), 'archive manifest.json') as unknown
  if (!Array.isArray(entries)) throw new IntegrityError('archive: manifest.json is not a list')
  for (const raw of entries as Array<{Config?: unknown; RepoTags?: unknown; Layers?: unknown}>) {
    if (typeof raw?.Config !== 'string' || !Array.isArray(raw.Layers)) throw new IntegrityError('archive: malformed manifest.json entry')
    const configBytes = await readFile(join(dir, member(names, raw.Config, 'config')))
    const config = parseJsonDocument(configBytes, `archive ${raw.Config}`) as {rootfs?: {diff_ids?: unknown}}
    const diffIds = config.rootfs?.diff_ids
    if (!Array.isArray(diffIds) || diffIds.length !== raw.Layers.length || !diffIds.every(isDigest)) {
      throw new IntegrityError(`archive: ${raw.Config}: its diff ids do not match the ${raw.Layers.length} layers`)
    }
    const tags = Array.isArray(raw.RepoTags) ? raw.RepoTags.filter((t): t is string => typeof t === 'string' && isReference(t)) : []
    if (tags.length === 0) {
      result.untagged.push(`sha256:${createHash('sha256').update(configBytes).digest('hex')}`)
      continue
    }
    const layers: LayerRecord[] = []
    for (const [i, layerName] of (raw.Layers as unknown[]).entries()) {
      if (typeof layerName !== 'string') throw new IntegrityError('archive: malformed layer name')
      const path = join(dir, member(names, layerName, 'layer'))
      const diffId = diffIds[i] as string
      const compression = sniffCompression(await head(path))
      if (compression === 'unknown') {
        const digest = await fileDigest(path)
        if (digest !== diffId) throw new IntegrityError(`archive: layer ${layerName} does not match its diff id ${diffId}`)
      }
      const stored = await storeFile(ctx, lease, path)
      const mediaType = compression === 'gzip' ? MediaType.OciLayerGzip : compression === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayer
      layers.push({digest: stored.digest, mediaType, size: stored.size, diffId})
    }
    const refs = tags.map((t) => parseReference(t).toString())
    await recordLocalImage(ctx, {config: configBytes, layers, refs}, lease)
    result.refs.push(...refs)
  }
}

async function loadOci(ctx: Context, dir: string, names: Set<string>, lease: ProcessLease, result: LoadResult): Promise<void> {
  const blobName = (digest: string) => {
    if (!isDigest(digest)) throw new IntegrityError(`archive: unsupported digest ${digest}`)
    return member(names, `blobs/sha256/${digest.slice(7)}`, 'blob')
  }
  const readDoc = async (digest: string, what: string) => {
    const bytes = await readFile(join(dir, blobName(digest)))
    if (`sha256:${createHash('sha256').update(bytes).digest('hex')}` !== digest) throw new IntegrityError(`archive: ${what} does not match its digest ${digest}`)
    return bytes
  }
  const index = parseJsonDocument(await readFile(join(dir, 'index.json')), 'archive index.json') as ImageIndex
  for (const top of index.manifests ?? []) {
    const name = top.annotations?.['io.containerd.image.name'] ?? top.annotations?.['org.opencontainers.image.ref.name']
    let desc = top
    if (desc.mediaType === MediaType.OciIndex || desc.mediaType === MediaType.DockerManifestList) {
      const nested = parseJsonDocument(await readDoc(desc.digest, 'index'), 'index') as ImageIndex
      desc = selectManifest(nested.manifests, wantedPlatform(undefined, ctx.config.platform), 'the archive index')
    }
    const manifestBytes = await readDoc(desc.digest, 'manifest')
    const manifest = parseJsonDocument(manifestBytes, `manifest ${desc.digest}`) as ImageManifest
    const configBytes = await readDoc(manifest.config.digest, 'config')
    if (!name || !isReference(name)) {
      result.untagged.push(manifest.config.digest)
      continue
    }
    const config = parseJsonDocument(configBytes, 'config') as {rootfs?: {diff_ids?: string[]}}
    const diffIds = config.rootfs?.diff_ids ?? []
    if (diffIds.length !== manifest.layers.length) throw new IntegrityError(`archive: config ${manifest.config.digest} has ${diffIds.length} diff ids for ${manifest.layers.length} layers`)
    const layers: LayerRecord[] = []
    for (const [i, l] of manifest.layers.entries()) {
      await storeFile(ctx, lease, join(dir, blobName(l.digest)), l.digest)
      layers.push({digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i]!})
    }
    const ref = parseReference(name).toString()
    await recordLocalImage(ctx, {config: configBytes, layers, refs: [ref], manifest: {bytes: manifestBytes, mediaType: desc.mediaType}}, lease)
    result.refs.push(ref)
  }
}

/**
 * Loads images from a docker-archive (manifest.json) or an oci-archive (index.json), plain or
 * gzip-compressed: blobs are verified into the store, layers unpacked, one record per name.
 */
export async function loadImages(ctx: Context, input: NodeJS.ReadableStream): Promise<LoadResult> {
  ensureDir(ctx.store.tmp)
  const dir = await mkdtemp(join(ctx.store.tmp, `load-${process.pid}-`))
  const lease = await createProcessLease(ctx.store, 'load')
  try {
    let names: Set<string>
    try {
      names = await extractArchive(await plainTar(input), dir)
    } catch (err) {
      throw new UsageError(`load: not a readable image archive: ${(err as Error).message}`)
    }
    const result: LoadResult = {refs: [], untagged: []}
    if (names.has('manifest.json')) await loadDocker(ctx, dir, names, lease, result)
    else if (names.has('index.json')) await loadOci(ctx, dir, names, lease, result)
    else throw new UsageError('load: the archive has neither manifest.json (docker-archive) nor index.json (oci-archive)')
    return result
  } finally {
    await lease.release()
    await rm(dir, {recursive: true, force: true})
  }
}
