import type {ImageConfig, ImageRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {parseReference} from '../reference/parse.js'
import {listImages, readImageConfig} from '../store/images.js'

/** `image inspect` output for one image (docker's field names where they exist). */
export interface ImageInspect {
  Id: string
  RepoTags: string[]
  RepoDigests: string[]
  Digest: string
  Created?: string
  Architecture: string
  Os: string
  Variant?: string
  Config: NonNullable<ImageConfig['config']>
  RootFS: {Type: string; Layers: string[]}
  Layers: Array<{Digest: string; MediaType: string; Size: number; DiffID: string}>
  Size: number
  MediaType: string
  PulledAt: string
}

export async function inspectImage(store: StoreLayout, record: ImageRecord): Promise<ImageInspect> {
  const config = await readImageConfig(store, record)
  const siblings = (await listImages(store)).filter((r) => r.id === record.id)
  const repoTags = new Set<string>()
  const repoDigests = new Set<string>()
  for (const r of siblings.length > 0 ? siblings : [record]) {
    try {
      const ref = parseReference(r.ref)
      if (ref.tag) repoTags.add(`${ref.familiarName}:${ref.tag}`)
      repoDigests.add(`${ref.familiarName}@${r.indexDigest ?? r.manifestDigest}`)
    } catch {
      repoTags.add(r.ref)
    }
  }
  return {
    Id: record.id,
    RepoTags: [...repoTags],
    RepoDigests: [...repoDigests],
    Digest: record.indexDigest ?? record.manifestDigest,
    Created: config.created ?? record.created,
    Architecture: config.architecture ?? record.platform.architecture,
    Os: config.os ?? record.platform.os,
    ...((config.variant ?? record.platform.variant) ? {Variant: config.variant ?? record.platform.variant} : {}),
    Config: config.config ?? {},
    RootFS: {Type: config.rootfs?.type ?? 'layers', Layers: config.rootfs?.diff_ids ?? record.layers.map((l) => l.diffId)},
    Layers: record.layers.map((l) => ({Digest: l.digest, MediaType: l.mediaType, Size: l.size, DiffID: l.diffId})),
    Size: record.size,
    MediaType: record.manifestMediaType,
    PulledAt: record.pulledAt,
  }
}
