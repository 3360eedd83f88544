import {statfs} from 'node:fs/promises'
import type {Context} from '../context.js'
import {IntegrityError, UnsupportedMediaTypeError} from '../errors.js'
import {UnpackSession, type StreamedUnpack} from '../layer/unpack-layers.js'
import {isDigest} from '../oci/digest.js'
import {MediaType, type Descriptor, type ImageConfig, type ImageIndex, type ImageManifest, type ImageRecord, type LayerRecord, type Platform} from '../oci/types.js'
import {ensureDir} from '../paths.js'
import type {PullEvent, PullEventSink} from '../progress/events.js'
import {parseReference, type Reference} from '../reference/parse.js'
import type {FetchedManifest, RegistryClient} from '../registry/client.js'
import {transferLimits, type TransferLimits} from '../registry/limits.js'
import {validateImageConfig, validateIndex, validateManifest} from '../oci/validate.js'
import {parseJsonDocument} from '../oci/media-type.js'
import {cleanStaleIngest, hasBlob, readBlob, removeBlob, writeBlob} from '../store/content.js'
import {writeImageRecord} from '../store/images.js'
import {hasLayer} from '../store/layers.js'
import {createProcessLease, type ProcessLease} from '../store/leases.js'
import {trace} from '../trace.js'
import {formatPlatform, normalizePlatform, platformMatches, selectManifest, wantedPlatform} from './platform.js'

export interface PullOptions {
  /** os/arch[/variant]; default: config.platform, else the host. */
  platform?: string
  /** Receives the pull's progress events (nothing is printed here). */
  onEvent?: PullEventSink
  env?: NodeJS.ProcessEnv
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList])
const CONFIG_TYPES = new Set<string>([MediaType.OciConfig, MediaType.DockerConfig])
const LAYER_TYPES = new Set<string>([
  MediaType.OciLayer,
  MediaType.OciLayerGzip,
  MediaType.OciLayerZstd,
  MediaType.OciLayerNondistGzip,
  'application/vnd.oci.image.layer.nondistributable.v1.tar',
  'application/vnd.oci.image.layer.nondistributable.v1.tar+zstd',
  MediaType.DockerLayerGzip,
  MediaType.DockerLayerForeignGzip,
])

function checkDescriptor(d: unknown, what: string): Descriptor {
  const x = d as Partial<Descriptor> | undefined
  if (!x || typeof x.digest !== 'string' || typeof x.size !== 'number' || typeof x.mediaType !== 'string' || x.size < 0 || !Number.isSafeInteger(x.size)) {
    throw new IntegrityError(`${what}: malformed descriptor`)
  }
  if (!isDigest(x.digest)) throw new UnsupportedMediaTypeError(`${what}: unsupported digest ${x.digest}`)
  return x as Descriptor
}

/**
 * Whether layers may unpack while they download: only with room to spare on the store's
 * filesystem (twice the bytes to download, and 256 MiB). When space is short the blobs come
 * first, so that a full disk fails the unpack, not the download, and the verified blobs are kept
 * for the next attempt (as without streaming).
 */
async function roomToStream(dir: string, downloadBytes: number): Promise<boolean> {
  try {
    const st = await statfs(dir)
    return st.bavail * st.bsize >= 2 * downloadBytes + 256 * 1024 * 1024
  } catch {
    return false
  }
}

/** Runs `fn` over `items` with at most `limit` running at once; the first failure is thrown after all settle. */
export async function mapLimit<T>(items: T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0
  let failure: unknown
  const worker = async () => {
    while (next < items.length && failure === undefined) {
      const item = items[next++]!
      try {
        await fn(item)
      } catch (err) {
        failure ??= err
      }
    }
  }
  await Promise.all(Array.from({length: Math.min(limit, items.length)}, worker))
  if (failure !== undefined) throw failure
}

interface Resolved {
  manifest: ImageManifest
  manifestDigest: string
  manifestMediaType: string
  indexDigest?: string
  platform?: Platform
  /** The index and manifest documents, stored only once the image config is valid too. */
  documents: Array<{digest: string; bytes: Buffer}>
}

/** Fetches the manifest for `ref`, descending through an index to the platform's manifest. All of them are stored as blobs. */
async function resolveManifest(ctx: Context, client: RegistryClient, ref: Reference, want: Platform, emit: PullEventSink): Promise<Resolved> {
  const display = ref.toString()
  // Every document is validated here; the caller stores them once the image config is valid too,
  // so nothing refused is left in the store.
  const top: FetchedManifest = await client.getManifest(ref.reference, display)
  let fetched = top
  let indexDigest: string | undefined
  let platform: Platform | undefined
  if (INDEX_TYPES.has(top.mediaType)) {
    const index: ImageIndex = validateIndex(parseJsonDocument(top.bytes, `index ${display}`), `index ${display}`)
    const chosen = checkDescriptor(selectManifest(index.manifests, want, `the manifest list of ${display}`), `index ${display}`)
    indexDigest = top.digest
    platform = chosen.platform ? normalizePlatform(chosen.platform) : want
    fetched = await client.getManifest(chosen.digest, `${ref.name}@${chosen.digest}`)
    if (fetched.bytes.length !== chosen.size) throw new IntegrityError(`manifest ${chosen.digest}: got ${fetched.bytes.length} bytes, index says ${chosen.size}`)
    if (INDEX_TYPES.has(fetched.mediaType)) throw new UnsupportedMediaTypeError(`${display}: nested indexes are not supported`)
    if (fetched.mediaType !== chosen.mediaType) {
      // The index and the document must agree on what it is (CVE-2021-41190).
      throw new IntegrityError(`manifest ${chosen.digest} of ${display}: the index says ${chosen.mediaType}, the document is ${fetched.mediaType} (refused as ambiguous)`)
    }
  }
  const what = `manifest ${fetched.digest} of ${display}`
  const manifest: ImageManifest = validateManifest(parseJsonDocument(fetched.bytes, what), what)
  const documents = [{digest: fetched.digest, bytes: fetched.bytes}, ...(indexDigest ? [{digest: top.digest, bytes: top.bytes}] : [])]
  emit({type: 'resolved', ref: display, digest: indexDigest ?? fetched.digest, mediaType: fetched.mediaType, platform: platform ? formatPlatform(platform) : undefined})
  return {manifest, manifestDigest: fetched.digest, manifestMediaType: fetched.mediaType, indexDigest, platform, documents}
}

/**
 * Pulls an image into the store and returns its record: manifest (through an index for the
 * wanted platform), config and layers are verified against their digests before they become
 * visible; layers download concurrently and ones already present are skipped; layers are
 * unpacked; the image record is written last. Progress is reported through `opts.onEvent`.
 */
export async function pullImage(ctx: Context, refInput: string | Reference, opts: PullOptions = {}): Promise<ImageRecord> {
  const ref = typeof refInput === 'string' ? parseReference(refInput) : refInput
  const want = wantedPlatform(opts.platform, ctx.config.platform)
  const limits: TransferLimits = transferLimits(opts.env)
  const emit: PullEventSink = (e: PullEvent) => opts.onEvent?.(e)

  ensureDir(ctx.store.blobs)
  ensureDir(ctx.store.ingest)
  ensureDir(ctx.store.images)

  // The unpacker (a second Node process in the user namespace) starts first, so that its start-up
  // overlaps ours (loading the HTTP client) and the manifest and config requests; each layer is
  // handed to it as soon as its blob is verified and in the store, so unpacking overlaps the
  // other downloads. It is stopped (and its temporary directories removed) on any failure.
  const layerSizes = new Map<string, number>()
  // A layer unpacks while it downloads: its 'unpacking' is shown once the download is done.
  const downloading = new Set<string>()
  const deferred = new Set<string>()
  const unpacker = UnpackSession.start(ctx.store, {
    concurrency: limits.concurrentDownloads,
    onEvent: (e) => {
      if (e.type === 'warning') emit({type: 'notice', message: `warning: ${e.message ?? ''}`})
      else if (e.type === 'unpacking' && downloading.has(e.digest)) deferred.add(e.digest)
      else emit({type: 'layer', phase: e.type, digest: e.digest, size: layerSizes.get(e.digest) ?? 0})
    },
  })
  let unpackerDone = false
  let client: RegistryClient | undefined
  let lease: ProcessLease | undefined
  try {
    const [{RegistryClient}, {downloadBlob}, {storedCredentials}] = await trace.phase('pull: load the registry client', () => Promise.all([
      import('../registry/client.js'),
      import('./download.js'),
      import('../auth/credentials.js'),
    ]))
    await cleanStaleIngest(ctx.store)
    const registry = new RegistryClient({
      config: ctx.config,
      registry: ref.registry,
      repository: ref.repository,
      credentials: storedCredentials({config: ctx.config, env: opts.env}),
      limits,
      env: opts.env,
      onNotice: (message) => emit({type: 'notice', message}),
    })
    client = registry
    lease = await createProcessLease(ctx.store)
    emit({type: 'resolving', ref: ref.toString()})
    const resolved = await trace.phase('pull: manifest', () => resolveManifest(ctx, registry, ref, want, emit))
    const {manifest} = resolved

    const configDesc = checkDescriptor(manifest.config, `manifest ${resolved.manifestDigest}`)
    if (!CONFIG_TYPES.has(configDesc.mediaType)) {
      throw new UnsupportedMediaTypeError(`${ref.toString()}: unsupported config media type ${configDesc.mediaType} (not a container image)`)
    }
    const layerDescs = manifest.layers.map((l, i) => checkDescriptor(l, `layer ${i} of ${resolved.manifestDigest}`))
    for (const l of layerDescs) {
      if (!LAYER_TYPES.has(l.mediaType)) throw new UnsupportedMediaTypeError(`${ref.toString()}: unsupported layer media type ${l.mediaType}`)
      layerSizes.set(l.digest, l.size)
    }
    if (configDesc.size > limits.maxConfigBytes) throw new IntegrityError(`image config ${configDesc.digest} is larger than ${limits.maxConfigBytes} bytes`)

    await lease.add({content: [resolved.manifestDigest, ...(resolved.indexDigest ? [resolved.indexDigest] : []), configDesc.digest, ...layerDescs.map((l) => l.digest)]})
    const configWasStored = await hasBlob(ctx.store, configDesc.digest, configDesc.size)
    if (!configWasStored) await trace.phase('pull: config', () => downloadBlob(ctx.store, registry, configDesc, limits))
    let config: ImageConfig
    try {
      const what = `image config ${configDesc.digest}`
      config = validateImageConfig(parseJsonDocument(await readBlob(ctx.store, configDesc.digest), what), what)
      if (config.rootfs.diff_ids.length !== layerDescs.length) {
        throw new IntegrityError(`${what}: ${config.rootfs.diff_ids.length} diff ids for ${layerDescs.length} layers`)
      }
    } catch (err) {
      // A config refused is not kept: the blob store holds only what an image can use.
      if (!configWasStored) await removeBlob(ctx.store, configDesc.digest)
      throw err
    }
    const diffIds = config.rootfs.diff_ids
    for (const doc of resolved.documents) await writeBlob(ctx.store, doc.digest, doc.bytes)
    const platform = normalizePlatform({os: config.os ?? want.os, architecture: config.architecture ?? want.architecture, ...(config.variant ? {variant: config.variant} : {})})
    if (!resolved.indexDigest && opts.platform && !platformMatches(platform, want)) {
      emit({type: 'notice', message: `warning: image platform ${formatPlatform(platform)} does not match the requested ${formatPlatform(want)}`})
    }

    await lease.add({layers: diffIds})
    const layers: LayerRecord[] = layerDescs.map((l, i) => ({digest: l.digest, mediaType: l.mediaType, size: l.size, diffId: diffIds[i]!}))
    const unique = [...new Map(layerDescs.map((l) => [l.digest, l])).values()]

    // Layers to unpack, by blob digest (one per diff id: the same content compressed twice is unpacked once).
    const toUnpack = new Map<string, LayerRecord[]>()
    const seenDiffIds = new Set<string>()
    for (const l of layers) {
      if (seenDiffIds.has(l.diffId) || hasLayer(ctx.store, l.diffId)) continue
      seenDiffIds.add(l.diffId)
      toUnpack.set(l.digest, [...(toUnpack.get(l.digest) ?? []), l])
    }
    const unpacks: Promise<void>[] = []
    const startUnpacking = (digest: string) => {
      for (const l of toUnpack.get(digest) ?? []) {
        if (unpacks.length === 0) emit({type: 'unpacking'})
        const p = trace.phase(`pull: unpack ${l.digest.slice(7, 19)}`, () => unpacker.unpack(l))
        p.catch(() => {}) // awaited below; a failure also stops the session
        unpacks.push(p)
      }
    }

    for (const l of unique) emit({type: 'layer', phase: 'waiting', digest: l.digest, size: l.size})
    const streaming = await roomToStream(ctx.store.blobs, unique.reduce((n, l) => n + l.size, 0))
    await mapLimit(unique, limits.concurrentDownloads, async (l) => {
      if (await hasBlob(ctx.store, l.digest, l.size)) {
        emit({type: 'layer', phase: 'exists', digest: l.digest, size: l.size})
        startUnpacking(l.digest)
        return
      }
      emit({type: 'layer', phase: 'downloading', digest: l.digest, size: l.size})
      // The layer unpacks from its ingest file as the first attempt writes it; a failed attempt
      // drops that unpack, and the layer is then unpacked from the verified blob.
      const wanted = toUnpack.get(l.digest)
      let streamed: StreamedUnpack | undefined
      let attempts = 0
      const follower = streaming && wanted?.length === 1 ? {
        begin: (path: string) => {
          if (attempts++ > 0) return
          downloading.add(l.digest)
          const started = performance.now()
          streamed = unpacker.stream(wanted[0]!, path)
          const traced = () => trace.record(`pull: unpack ${l.digest.slice(7, 19)} (while downloading)`, started, performance.now())
          streamed.done.then(traced, () => {}) // awaited below
        },
        grew: (bytes: number) => streamed?.grew(bytes),
        failed: () => {
          streamed?.cancel()
          streamed = undefined
        },
      } : undefined
      try {
        await trace.phase(`pull: download ${l.digest.slice(7, 19)}`, () =>
          downloadBlob(ctx.store, registry, l, limits, (current) => emit({type: 'progress', digest: l.digest, current, total: l.size}), follower),
        )
      } finally {
        downloading.delete(l.digest)
      }
      emit({type: 'layer', phase: 'done', digest: l.digest, size: l.size})
      const s = streamed
      if (!s) {
        startUnpacking(l.digest)
        return
      }
      if (unpacks.length === 0) emit({type: 'unpacking'})
      if (deferred.delete(l.digest)) emit({type: 'layer', phase: 'unpacking', digest: l.digest, size: l.size})
      s.verified()
      const p = s.done.then(async (committed) => {
        if (!committed) await unpacker.unpack(wanted![0]!)
      })
      p.catch(() => {})
      unpacks.push(p)
    })

    await Promise.all(unpacks)
    await trace.phase('pull: unpacker exit', () => unpacker.finish())
    unpackerDone = true
    if (unpacks.length > 0) emit({type: 'unpacked'})

    const record: ImageRecord = {
      ref: ref.toString(),
      id: configDesc.digest,
      manifestDigest: resolved.manifestDigest,
      ...(resolved.indexDigest ? {indexDigest: resolved.indexDigest} : {}),
      manifestMediaType: resolved.manifestMediaType,
      platform,
      layers,
      size: layers.reduce((n, l) => n + l.size, 0),
      ...(config.created ? {created: config.created} : {}),
      pulledAt: new Date().toISOString(),
    }
    await writeImageRecord(ctx.store, record)
    emit({type: 'pulled', ref: ref.toString(), digest: resolved.indexDigest ?? resolved.manifestDigest})
    return record
  } finally {
    if (!unpackerDone) await unpacker.abort()
    await lease?.release()
    await client?.close()
  }
}
