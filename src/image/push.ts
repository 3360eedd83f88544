import {pipeline} from 'node:stream/promises'
import {PassThrough} from 'node:stream'
import {createGzip, createZstdCompress} from 'node:zlib'
import type {Context} from '../context.js'
import {IntegrityError, NotFoundError, UsageError} from '../errors.js'
import {parseJsonDocument} from '../oci/media-type.js'
import {compressionOf, MediaType, type Descriptor, type ImageIndex, type ImageManifest, type ImageRecord} from '../oci/types.js'
import type {PushEvent, PushEventSink} from '../progress/push-events.js'
import {isReference, parseReference, type Reference} from '../reference/parse.js'
import type {RegistryClient} from '../registry/client.js'
import {transferLimits} from '../registry/limits.js'
import type {BlobSource} from '../registry/upload.js'
import {hasBlob, openBlob, readBlob, writeBlobStream} from '../store/content.js'
import {resolveImage} from '../store/images.js'
import {createProcessLease, type ProcessLease} from '../store/leases.js'
import {mapLimit} from './pull.js'

export type LayerCompression = 'gzip' | 'zstd'

export interface PushOptions {
  /** Where to push (push IMAGE DEST); default: the image's own reference. */
  dest?: string
  onEvent?: PushEventSink
  env?: NodeJS.ProcessEnv
  /** How layers stored uncompressed are compressed (default gzip). */
  compression?: LayerCompression
}

export interface PushResult {
  ref: string
  /** Digest of what the tag now names (the index when an index was pushed). */
  digest: string
  size: number
  mediaType: string
}

const INDEX_TYPES = new Set<string>([MediaType.OciIndex, MediaType.DockerManifestList])

/** Blobs larger than this go up in chunks (PATCH with Content-Range), smaller ones in one PUT. */
export function pushChunkBytes(env: NodeJS.ProcessEnv = process.env): number {
  const raw = Number(env.CTR_TS_PUSH_CHUNK_BYTES)
  return Number.isFinite(raw) && raw >= 1024 ? Math.floor(raw) : 32 * 1024 * 1024
}

interface Prepared {
  bytes: Buffer
  digest: string
  mediaType: string
  manifest: ImageManifest
}

function compressedType(uncompressed: string, compression: LayerCompression, docker: boolean): string {
  if (docker) {
    if (compression === 'zstd') throw new UsageError('zstd layers need an OCI manifest: this image has a Docker v2 manifest (use --compression-format gzip)')
    return MediaType.DockerLayerGzip
  }
  if (uncompressed.includes('nondistributable')) return compression === 'zstd' ? `${uncompressed}+zstd` : `${uncompressed}+gzip`
  return compression === 'zstd' ? MediaType.OciLayerZstd : MediaType.OciLayerGzip
}

/**
 * The manifest to push: the stored one as it is (so the registry gets the same digest), or, when
 * a layer is stored uncompressed, one naming that layer compressed (the diff id in the config
 * stays: it is the digest of the uncompressed tar).
 */
async function prepareManifest(ctx: Context, record: ImageRecord, compression: LayerCompression, emit: PushEventSink): Promise<Prepared> {
  const bytes = await readBlob(ctx.store, record.manifestDigest)
  const manifest = parseJsonDocument(bytes, `manifest ${record.manifestDigest}`) as ImageManifest
  if (!Array.isArray(manifest.layers) || !manifest.config) throw new IntegrityError(`manifest ${record.manifestDigest} is not an image manifest`)
  if (!manifest.layers.some((l) => compressionOf(l.mediaType) === 'none')) {
    return {bytes, digest: record.manifestDigest, mediaType: record.manifestMediaType, manifest}
  }
  const docker = record.manifestMediaType === MediaType.DockerManifest
  const layers: Descriptor[] = []
  for (const l of manifest.layers) {
    if (compressionOf(l.mediaType) !== 'none') {
      layers.push(l)
      continue
    }
    emit({type: 'blob', phase: 'compressing', digest: l.digest, size: l.size})
    const pass = new PassThrough()
    const written = writeBlobStream(ctx.store, pass)
    await pipeline(openBlob(ctx.store, l.digest), compression === 'zstd' ? createZstdCompress() : createGzip(), pass)
    const {digest, size} = await written
    const {annotations, urls} = l
    layers.push({mediaType: compressedType(l.mediaType, compression, docker), digest, size, ...(urls ? {urls} : {}), ...(annotations ? {annotations} : {})})
  }
  const next: ImageManifest = {...manifest, layers}
  const out = Buffer.from(JSON.stringify(next, null, 2))
  const {createHash} = await import('node:crypto')
  return {bytes: out, digest: `sha256:${createHash('sha256').update(out).digest('hex')}`, mediaType: record.manifestMediaType, manifest: next}
}

function source(ctx: Context, d: Descriptor): BlobSource {
  return {digest: d.digest, size: d.size, open: (start, end) => openBlob(ctx.store, d.digest, start, end)}
}

/** The children of the index the image was pulled from, when every one is complete in the store. */
async function completeIndex(ctx: Context, record: ImageRecord): Promise<{index: ImageIndex; bytes: Buffer; children: Array<{desc: Descriptor; bytes: Buffer; manifest: ImageManifest}>} | {missing: number; total: number} | undefined> {
  if (!record.indexDigest || !(await hasBlob(ctx.store, record.indexDigest))) return undefined
  const bytes = await readBlob(ctx.store, record.indexDigest)
  const index = parseJsonDocument(bytes, `index ${record.indexDigest}`) as ImageIndex
  const children: Array<{desc: Descriptor; bytes: Buffer; manifest: ImageManifest}> = []
  let missing = 0
  for (const desc of index.manifests ?? []) {
    if (!(await hasBlob(ctx.store, desc.digest, desc.size))) {
      missing++
      continue
    }
    const mbytes = await readBlob(ctx.store, desc.digest)
    const manifest = parseJsonDocument(mbytes, `manifest ${desc.digest}`) as ImageManifest
    const blobs = [manifest.config, ...(manifest.layers ?? [])]
    let complete = true
    for (const b of blobs) if (!b || !(await hasBlob(ctx.store, b.digest, b.size))) complete = false
    if (!complete) missing++
    else children.push({desc, bytes: mbytes, manifest})
  }
  if (missing > 0) return {missing, total: (index.manifests ?? []).length}
  return {index, bytes, children}
}

/**
 * Pushes an image of the store to a registry (`push IMAGE [DEST]`): config and layers (HEAD
 * first, mounted from the repository it was pulled from when that is on the same registry,
 * else uploaded), then the manifest under the tag, or the whole index when the image was pulled
 * through one and all its platforms are in the store. Mirrors are never pushed to.
 */
export async function pushImage(ctx: Context, image: string, opts: PushOptions = {}): Promise<PushResult> {
  const emit: PushEventSink = (e: PushEvent) => opts.onEvent?.(e)
  const record = await resolveImage(ctx.store, image).catch((err: unknown) => {
    if (err instanceof NotFoundError && isReference(image)) throw new NotFoundError(`An image does not exist locally with the tag: ${parseReference(image).familiarName}`)
    throw err
  })
  const targetInput = opts.dest ?? image
  if (!isReference(targetInput) || targetInput.startsWith('sha256:')) throw new UsageError(`push: ${JSON.stringify(targetInput)} is not a repository name to push to`)
  const target: Reference = parseReference(targetInput)
  const compression = opts.compression ?? 'gzip'
  const limits = transferLimits(opts.env)
  const chunkBytes = pushChunkBytes(opts.env)

  let origin: Reference | undefined
  try {
    origin = parseReference(record.ref)
  } catch {
    origin = undefined
  }
  const mountFrom = origin && origin.registry === target.registry && origin.repository !== target.repository ? origin.repository : undefined

  let client: RegistryClient | undefined
  let lease: ProcessLease | undefined
  try {
    const [{RegistryClient}, upload, {storedCredentials}] = await Promise.all([
      import('../registry/client.js'),
      import('../registry/upload.js'),
      import('../auth/credentials.js'),
    ])
    lease = await createProcessLease(ctx.store)
    emit({type: 'repository', name: target.name})
    const prepared = await prepareManifest(ctx, record, compression, emit)
    await lease.add({content: [prepared.digest, ...prepared.manifest.layers.map((l) => l.digest)]})

    const indexed = await completeIndex(ctx, record)
    const fullIndex = indexed && 'index' in indexed && prepared.digest === record.manifestDigest ? indexed : undefined
    if (indexed && 'missing' in indexed) {
      emit({
        type: 'notice',
        message: `${image} was pulled through an index of ${indexed.total} platforms, ${indexed.missing} of them are not in the store: pushing the ${record.platform.os}/${record.platform.architecture} manifest only`,
      })
    }

    const reg = new RegistryClient({
      config: ctx.config,
      registry: target.registry,
      repository: target.repository,
      credentials: storedCredentials({config: ctx.config, env: opts.env}),
      limits,
      env: opts.env,
      onNotice: (message) => emit({type: 'notice', message}),
      push: {mountFrom: mountFrom ? [mountFrom] : []},
    })
    client = reg

    const manifests = fullIndex ? fullIndex.children.map((c) => c.manifest) : [prepared.manifest]
    const blobs = new Map<string, Descriptor>()
    for (const m of manifests) for (const d of [...m.layers, m.config]) blobs.set(d.digest, d)
    const pushBlob = async (d: Descriptor) => {
      emit({type: 'blob', phase: 'preparing', digest: d.digest, size: d.size})
      const outcome = await upload.uploadBlob(reg, target.repository, source(ctx, d), {
        mountFrom,
        chunkBytes,
        maxResumes: limits.maxTries,
        onProgress: (current) => emit({type: 'progress', digest: d.digest, current, total: d.size}),
        onNotice: (message) => emit({type: 'notice', message}),
      })
      emit({type: 'blob', phase: outcome, digest: d.digest, size: d.size, ...(outcome === 'mounted' ? {from: mountFrom} : {})})
    }
    await mapLimit([...blobs.values()], limits.concurrentDownloads, pushBlob)

    const tag = target.tag ?? prepared.digest
    let pushed: {digest: string; size: number; mediaType: string}
    if (fullIndex) {
      for (const c of fullIndex.children) await upload.putManifest(reg, target.repository, c.desc.digest, c.bytes, c.desc.mediaType)
      const mediaType = fullIndex.index.mediaType ?? MediaType.OciIndex
      await upload.putManifest(reg, target.repository, target.tag ?? record.indexDigest!, fullIndex.bytes, mediaType)
      pushed = {digest: record.indexDigest!, size: fullIndex.bytes.length, mediaType}
    } else {
      if (target.digest && target.digest !== prepared.digest) {
        throw new UsageError(`push: ${targetInput} names digest ${target.digest}, the manifest to push is ${prepared.digest}`)
      }
      await upload.putManifest(reg, target.repository, tag, prepared.bytes, prepared.mediaType)
      pushed = {digest: prepared.digest, size: prepared.bytes.length, mediaType: prepared.mediaType}
    }
    emit({type: 'pushed', ref: target.toString(), tag: target.tag ?? pushed.digest, digest: pushed.digest, size: pushed.size})
    return {ref: target.toString(), ...pushed}
  } finally {
    await lease?.release()
    await client?.close()
  }
}
