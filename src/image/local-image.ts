import {createHash} from 'node:crypto'
import type {Context} from '../context.js'
import {IntegrityError} from '../errors.js'
import {UnpackSession} from '../layer/unpack-layers.js'
import {parseJsonDocument} from '../oci/media-type.js'
import {validateImageConfig} from '../oci/validate.js'
import {MediaType, type ImageConfig, type ImageManifest, type ImageRecord, type LayerRecord} from '../oci/types.js'
import {writeBlob} from '../store/content.js'
import {writeImageRecord} from '../store/images.js'
import {hasLayer} from '../store/layers.js'
import type {ProcessLease} from '../store/leases.js'
import {normalizePlatform} from './platform.js'

export function sha256(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`
}

export interface LocalImage {
  /** The image configuration as it will be stored (its digest is the image id). */
  config: Buffer
  /** Blobs already in the store, bottom first; their diff ids must be the config's. */
  layers: LayerRecord[]
  /** A manifest to keep as it is (loaded from an OCI archive); else an OCI manifest is made. */
  manifest?: {bytes: Buffer; mediaType: string}
  /** Normalized references to record the image under. */
  refs: string[]
}

/** Docker layer media types and their OCI names (same bytes). */
const OCI_EQUIVALENT: Record<string, string> = {
  [MediaType.DockerLayerGzip]: MediaType.OciLayerGzip,
  [MediaType.DockerLayerForeignGzip]: MediaType.OciLayerNondistGzip,
  'application/vnd.docker.image.rootfs.diff.tar': MediaType.OciLayer,
}

/** An OCI image manifest for a config and layers in the store. */
export function ociManifest(config: Buffer, layers: LayerRecord[]): Buffer {
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {mediaType: MediaType.OciConfig, digest: sha256(config), size: config.length},
    layers: layers.map((l) => ({mediaType: OCI_EQUIVALENT[l.mediaType] ?? l.mediaType, digest: l.digest, size: l.size})),
  }
  return Buffer.from(JSON.stringify(manifest))
}

/**
 * Makes an image whose blobs are in the store (made by load, commit, import) usable as pulled
 * ones are: config and manifest stored, layers unpacked into the layer store, one record per
 * reference. The lease protects the blobs meanwhile.
 */
export async function recordLocalImage(ctx: Context, image: LocalImage, lease: ProcessLease): Promise<ImageRecord> {
  const id = sha256(image.config)
  const what = `image config ${id}`
  const config: ImageConfig = validateImageConfig(parseJsonDocument(image.config, what), what)
  const diffIds = config.rootfs.diff_ids
  if (diffIds.length !== image.layers.length || image.layers.some((l, i) => l.diffId !== diffIds[i])) {
    throw new IntegrityError(`${what}: its diff ids do not match the layers`)
  }
  const manifest = image.manifest ?? {bytes: ociManifest(image.config, image.layers), mediaType: MediaType.OciManifest}
  const manifestDigest = sha256(manifest.bytes)
  await lease.add({content: [id, manifestDigest, ...image.layers.map((l) => l.digest)], layers: diffIds})
  await writeBlob(ctx.store, id, image.config)
  await writeBlob(ctx.store, manifestDigest, manifest.bytes)

  const missing = [...new Map(image.layers.filter((l) => !hasLayer(ctx.store, l.diffId)).map((l) => [l.diffId, l])).values()]
  if (missing.length > 0) {
    const unpacker = UnpackSession.start(ctx.store)
    let done = false
    try {
      await Promise.all(missing.map((l) => unpacker.unpack(l)))
      await unpacker.finish()
      done = true
    } finally {
      if (!done) await unpacker.abort()
    }
  }
  const platform = normalizePlatform({os: config.os || 'linux', architecture: config.architecture || 'amd64', ...(config.variant ? {variant: config.variant} : {})})
  let record: ImageRecord | undefined
  for (const ref of image.refs) {
    record = {
      ref,
      id,
      manifestDigest,
      manifestMediaType: manifest.mediaType,
      platform,
      layers: image.layers,
      size: image.layers.reduce((n, l) => n + l.size, 0),
      ...(config.created ? {created: config.created} : {}),
      pulledAt: new Date().toISOString(),
    }
    await writeImageRecord(ctx.store, record)
  }
  if (!record) throw new IntegrityError('no reference to record the image under')
  return record
}
