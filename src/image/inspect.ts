import type {ImageConfig, ImageRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {parseReference} from '../reference/parse.js'
import {listImages, readImageConfig} from '../store/images.js'

/**
 * `image inspect` output for one image: docker's ImageInspect (Engine API v1.41), in its field
 * order, then the fields ctr-ts adds (Digest, Layers, MediaType, PulledAt).
 */
export interface ImageInspect {
  Id: string
  RepoTags: string[]
  RepoDigests: string[]
  Parent: string
  Comment: string
  Created: string
  DockerVersion: string
  Author: string
  Config: DockerImageConfig
  Architecture: string
  Variant?: string
  Os: string
  Size: number
  VirtualSize: number
  GraphDriver: {Name: string; Data: null}
  RootFS: {Type: string; Layers: string[]}
  Metadata: {LastTagTime: string}
  Digest: string
  Layers: Array<{Digest: string; MediaType: string; Size: number; DiffID: string}>
  MediaType: string
  PulledAt: string
}

/** docker's container.Config as `image inspect` shows an image's configuration. */
export interface DockerImageConfig {
  Hostname: string
  Domainname: string
  User: string
  AttachStdin: boolean
  AttachStdout: boolean
  AttachStderr: boolean
  ExposedPorts?: Record<string, object>
  Tty: boolean
  OpenStdin: boolean
  StdinOnce: boolean
  Env: string[] | null
  Cmd: string[] | null
  Image: string
  Volumes: Record<string, object> | null
  WorkingDir: string
  Entrypoint: string[] | null
  OnBuild: string[] | null
  Labels: Record<string, string> | null
  StopSignal?: string
}

/** The OCI image config's `config` in docker's shape (every field present, docker's zero values). */
export function dockerImageConfig(c: ImageConfig['config'] = {}): DockerImageConfig {
  return {
    Hostname: '',
    Domainname: '',
    User: c.User ?? '',
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    ...(c.ExposedPorts ? {ExposedPorts: c.ExposedPorts} : {}),
    Tty: false,
    OpenStdin: false,
    StdinOnce: false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    Image: '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    ...(c.StopSignal ? {StopSignal: c.StopSignal} : {}),
  }
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
    Parent: '',
    Comment: '',
    Created: config.created ?? record.created ?? '',
    DockerVersion: '',
    Author: config.author ?? '',
    Config: dockerImageConfig(config.config),
    Architecture: config.architecture ?? record.platform.architecture,
    ...((config.variant ?? record.platform.variant) ? {Variant: config.variant ?? record.platform.variant} : {}),
    Os: config.os ?? record.platform.os,
    Size: record.size,
    VirtualSize: record.size,
    GraphDriver: {Name: 'fuse-overlayfs', Data: null},
    RootFS: {Type: config.rootfs?.type ?? 'layers', Layers: config.rootfs?.diff_ids ?? record.layers.map((l) => l.diffId)},
    Metadata: {LastTagTime: '0001-01-01T00:00:00Z'},
    Digest: record.indexDigest ?? record.manifestDigest,
    Layers: record.layers.map((l) => ({Digest: l.digest, MediaType: l.mediaType, Size: l.size, DiffID: l.diffId})),
    MediaType: record.manifestMediaType,
    PulledAt: record.pulledAt,
  }
}
