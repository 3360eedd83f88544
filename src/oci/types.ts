/** OCI image-spec and Docker distribution types and media types, shared by every stage. */

export const MediaType = {
  OciManifest: 'application/vnd.oci.image.manifest.v1+json',
  OciIndex: 'application/vnd.oci.image.index.v1+json',
  OciConfig: 'application/vnd.oci.image.config.v1+json',
  OciLayer: 'application/vnd.oci.image.layer.v1.tar',
  OciLayerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  OciLayerZstd: 'application/vnd.oci.image.layer.v1.tar+zstd',
  OciLayerNondistGzip: 'application/vnd.oci.image.layer.nondistributable.v1.tar+gzip',
  DockerManifest: 'application/vnd.docker.distribution.manifest.v2+json',
  DockerManifestList: 'application/vnd.docker.distribution.manifest.list.v2+json',
  DockerConfig: 'application/vnd.docker.container.image.v1+json',
  DockerLayerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  DockerLayerForeignGzip: 'application/vnd.docker.image.rootfs.foreign.diff.tar.gzip',
} as const

export type Compression = 'gzip' | 'zstd' | 'none'

export interface Platform {
  os: string
  architecture: string
  variant?: string
  'os.version'?: string
  'os.features'?: string[]
}

export interface Descriptor {
  mediaType: string
  digest: string
  size: number
  urls?: string[]
  annotations?: Record<string, string>
  platform?: Platform
  artifactType?: string
}

export interface ImageManifest {
  schemaVersion: 2
  mediaType?: string
  artifactType?: string
  config: Descriptor
  layers: Descriptor[]
  subject?: Descriptor
  annotations?: Record<string, string>
}

export interface ImageIndex {
  schemaVersion: 2
  mediaType?: string
  manifests: Descriptor[]
  annotations?: Record<string, string>
}

/** The parts of an image configuration ctr-ts uses (OCI image-spec config.json). */
export interface ImageConfig {
  created?: string
  author?: string
  architecture: string
  os: string
  variant?: string
  config?: {
    User?: string
    ExposedPorts?: Record<string, object>
    Env?: string[]
    Entrypoint?: string[] | null
    Cmd?: string[] | null
    Volumes?: Record<string, object>
    WorkingDir?: string
    Labels?: Record<string, string>
    StopSignal?: string
    /** HEALTHCHECK (docker's HealthConfig; durations in nanoseconds). */
    Healthcheck?: {Test: string[]; Interval?: number; Timeout?: number; StartPeriod?: number; StartInterval?: number; Retries?: number}
    OnBuild?: string[] | null
    Shell?: string[]
  }
  rootfs: {type: 'layers'; diff_ids: string[]}
  history?: Array<{created?: string; created_by?: string; empty_layer?: boolean; comment?: string}>
}

/** A layer as the store records it for an image. */
export interface LayerRecord {
  /** Digest of the blob as the registry serves it (compressed). */
  digest: string
  mediaType: string
  size: number
  /** Digest of the uncompressed tar (from the image config's rootfs.diff_ids). */
  diffId: string
}

/** What the store keeps per pulled image reference. */
export interface ImageRecord {
  /** Normalized reference: docker.io/library/alpine:latest, or name@sha256:... when pulled by digest. */
  ref: string
  /** Image id: the config digest. */
  id: string
  manifestDigest: string
  /** Digest of the index the manifest was selected from, when there was one. */
  indexDigest?: string
  manifestMediaType: string
  platform: Platform
  layers: LayerRecord[]
  /** Sum of the compressed layer sizes. */
  size: number
  created?: string
  pulledAt: string
}

export function compressionOf(mediaType: string): Compression {
  if (mediaType.endsWith('+zstd') || mediaType.endsWith('.zstd')) return 'zstd'
  if (mediaType.endsWith('+gzip') || mediaType.endsWith('.gzip')) return 'gzip'
  return 'none'
}
