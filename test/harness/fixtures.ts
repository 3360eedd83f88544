/**
 * Fixture images, built at test time from Debian's busybox-static (no download), and pushed to
 * the test registries.
 *
 * Layers:
 *   L1 busybox base: bin/busybox + an applet symlink per `busybox --list` entry, etc/passwd,
 *      etc/group, tmp (1777), root (0700), home/app (1000:1000), and empty dev, proc, sys.
 *   L2 adds /data (see MULTILAYER below): plain files, a hard link, symlinks (relative,
 *      absolute, dangling), files owned 1000:1000 and 2000:3000, a setuid file, a path longer
 *      than 100 characters, a file with a fixed old mtime.
 *   L3 whiteout data/.wh.gone and opaque data/dir/.wh..wh..opq with a new data/dir/new.
 */
import {execFileSync} from 'node:child_process'
import {readFileSync} from 'node:fs'
import {MediaType, type Compression, type ImageConfig, type Descriptor, type Platform} from '../../src/oci/types.js'
import type {FixtureInfo} from './env.js'
import {RegistryClient, sha256} from './push.js'
import {buildTar, compress, type TarEntry} from './tar.js'

export const IMAGE_PATH_ENV = 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'

/** What the multilayer image looks like once all three layers are applied. */
export const MULTILAYER = {
  keep: {path: '/data/keep', content: 'keep\n'},
  gone: '/data/gone',
  dirOld: ['/data/dir/old1', '/data/dir/old2'],
  dirNew: {path: '/data/dir/new', content: 'new\n'},
  hardlink: {path: '/data/hard', target: '/data/keep'},
  relSymlink: {path: '/data/rel', target: 'keep'},
  absSymlink: {path: '/data/abs', target: '/data/keep'},
  danglingSymlink: {path: '/data/dangling', target: '/nonexistent'},
  ownedApp: {path: '/home/app/owned', uid: 1000, gid: 1000, mode: 0o640, content: 'owned by app\n'},
  owned2000: {path: '/data/owned2000', uid: 2000, gid: 3000, mode: 0o644, content: 'owned by 2000:3000\n'},
  suid: {path: '/data/suid', mode: 0o4755, content: '#!/bin/sh\necho suid\n'},
  longPath: {
    path: `/data/long/${'a'.repeat(60)}/${'b'.repeat(60)}/file-with-a-long-name.txt`,
    content: 'long path\n',
  },
  dated: {path: '/data/dated', mtime: new Date('2001-09-09T01:46:40Z'), content: 'dated\n'},
} as const

export const WEB = {index: {path: '/www/index.html', content: 'hello from ctr-ts\n'}, cmd: ['httpd', '-f', '-p', '80', '-h', '/www']}

const strip = (p: string) => p.replace(/^\//, '')

export function busyboxApplets(busybox = '/bin/busybox'): string[] {
  return execFileSync(busybox, ['--list'], {encoding: 'utf8'})
    .split('\n')
    .map((s) => s.trim())
    .filter((s) => s && s !== 'busybox' && !s.includes('/'))
}

export function baseLayerEntries(busybox = '/bin/busybox'): TarEntry[] {
  const passwd = [
    'root:x:0:0:root:/root:/bin/sh',
    'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
    'app:x:1000:1000:app:/home/app:/bin/sh',
    'nobody:x:65534:65534:nobody:/nonexistent:/bin/false',
    '',
  ].join('\n')
  const group = ['root:x:0:', 'daemon:x:1:', 'app:x:1000:', 'nogroup:x:65534:', ''].join('\n')
  const entries: TarEntry[] = [
    {name: 'bin', type: 'directory'},
    {name: 'bin/busybox', type: 'file', mode: 0o755, content: readFileSync(busybox)},
  ]
  for (const applet of busyboxApplets(busybox)) entries.push({name: `bin/${applet}`, type: 'symlink', linkname: 'busybox'})
  entries.push(
    {name: 'dev', type: 'directory'},
    {name: 'etc', type: 'directory'},
    {name: 'etc/passwd', type: 'file', content: passwd},
    {name: 'etc/group', type: 'file', content: group},
    {name: 'home', type: 'directory'},
    {name: 'home/app', type: 'directory', uid: 1000, gid: 1000},
    {name: 'proc', type: 'directory'},
    {name: 'root', type: 'directory', mode: 0o700},
    {name: 'sys', type: 'directory'},
    {name: 'tmp', type: 'directory', mode: 0o1777},
  )
  return entries
}

export function dataLayerEntries(): TarEntry[] {
  const M = MULTILAYER
  const longParts = strip(M.longPath.path).split('/')
  const longDirs: TarEntry[] = []
  for (let i = 2; i < longParts.length; i++) longDirs.push({name: longParts.slice(0, i).join('/'), type: 'directory'})
  return [
    {name: 'data', type: 'directory'},
    {name: strip(M.keep.path), type: 'file', content: M.keep.content},
    {name: strip(M.gone), type: 'file', content: 'to be deleted\n'},
    {name: 'data/dir', type: 'directory'},
    {name: strip(M.dirOld[0]), type: 'file', content: 'old1\n'},
    {name: strip(M.dirOld[1]), type: 'file', content: 'old2\n'},
    {name: strip(M.hardlink.path), type: 'link', linkname: strip(M.hardlink.target)},
    {name: strip(M.relSymlink.path), type: 'symlink', linkname: M.relSymlink.target},
    {name: strip(M.absSymlink.path), type: 'symlink', linkname: M.absSymlink.target},
    {name: strip(M.danglingSymlink.path), type: 'symlink', linkname: M.danglingSymlink.target},
    {name: strip(M.owned2000.path), type: 'file', uid: 2000, gid: 3000, mode: M.owned2000.mode, content: M.owned2000.content},
    {name: strip(M.suid.path), type: 'file', mode: M.suid.mode, content: M.suid.content},
    {name: strip(M.dated.path), type: 'file', mtime: M.dated.mtime, content: M.dated.content},
    ...longDirs,
    {name: strip(M.longPath.path), type: 'file', content: M.longPath.content},
    {name: 'home', type: 'directory'},
    {name: 'home/app', type: 'directory', uid: 1000, gid: 1000},
    {name: strip(M.ownedApp.path), type: 'file', uid: 1000, gid: 1000, mode: M.ownedApp.mode, content: M.ownedApp.content},
  ]
}

export function whiteoutLayerEntries(): TarEntry[] {
  return [
    {name: 'data', type: 'directory'},
    {name: 'data/.wh.gone', type: 'file'},
    {name: 'data/dir', type: 'directory'},
    {name: 'data/dir/.wh..wh..opq', type: 'file'},
    {name: strip(MULTILAYER.dirNew.path), type: 'file', content: MULTILAYER.dirNew.content},
  ]
}

export function webLayerEntries(): TarEntry[] {
  return [
    {name: 'www', type: 'directory'},
    {name: strip(WEB.index.path), type: 'file', content: WEB.index.content},
  ]
}

export interface Blob {
  data: Buffer
  digest: string
  mediaType: string
}

export interface BuiltLayer {
  tar: Buffer
  diffId: string
  createdBy: string
  blobs: Record<Compression, Blob>
}

export interface BuiltImage {
  manifest: Buffer
  manifestMediaType: string
  manifestDigest: string
  config: Blob
  layers: Array<Blob & {diffId: string}>
  /** The platform this image is for (its descriptor's platform in an index). */
  platform: Platform
}

export interface BuiltIndex {
  body: Buffer
  mediaType: string
  digest: string
  children: BuiltImage[]
}

const ociLayerType: Record<Compression, string> = {gzip: MediaType.OciLayerGzip, zstd: MediaType.OciLayerZstd, none: MediaType.OciLayer}

export async function buildLayer(entries: TarEntry[], createdBy: string): Promise<BuiltLayer> {
  const tar = await buildTar(entries)
  const blobs = {} as Record<Compression, Blob>
  for (const c of ['gzip', 'zstd', 'none'] as const) {
    const data = compress(tar, c)
    blobs[c] = {data, digest: sha256(data), mediaType: ociLayerType[c]}
  }
  return {tar, diffId: sha256(tar), createdBy, blobs}
}

const json = (v: unknown) => Buffer.from(JSON.stringify(v))

export function imageConfig(opts: {
  architecture: string
  layers: BuiltLayer[]
  cmd?: string[]
  exposedPorts?: Record<string, object>
  variant?: string
}): ImageConfig {
  return {
    created: '2024-01-01T00:00:00Z',
    architecture: opts.architecture,
    ...(opts.variant ? {variant: opts.variant} : {}),
    os: 'linux',
    config: {
      Env: [IMAGE_PATH_ENV],
      Cmd: opts.cmd ?? ['sh'],
      WorkingDir: '/',
      ...(opts.exposedPorts ? {ExposedPorts: opts.exposedPorts} : {}),
      Labels: {'org.opencontainers.image.title': 'ctr-ts test fixture'},
    },
    rootfs: {type: 'layers', diff_ids: opts.layers.map((l) => l.diffId)},
    history: opts.layers.map((l) => ({created: '2024-01-01T00:00:00Z', created_by: l.createdBy})),
  }
}

export function buildImage(opts: {
  layers: BuiltLayer[]
  compression?: Compression
  docker?: boolean
  architecture?: string
  variant?: string
  cmd?: string[]
  exposedPorts?: Record<string, object>
}): BuiltImage {
  const compression = opts.compression ?? 'gzip'
  const docker = opts.docker ?? false
  if (docker && compression !== 'gzip') throw new Error('Docker v2s2 layers are gzip')
  const architecture = opts.architecture ?? 'amd64'
  const configData = json(imageConfig({architecture, variant: opts.variant, layers: opts.layers, cmd: opts.cmd, exposedPorts: opts.exposedPorts}))
  const config: Blob = {data: configData, digest: sha256(configData), mediaType: docker ? MediaType.DockerConfig : MediaType.OciConfig}
  const layers = opts.layers.map((l) => ({
    ...l.blobs[compression],
    mediaType: docker ? MediaType.DockerLayerGzip : l.blobs[compression].mediaType,
    diffId: l.diffId,
  }))
  const desc = (b: Blob): Descriptor => ({mediaType: b.mediaType, digest: b.digest, size: b.data.length})
  const manifestMediaType = docker ? MediaType.DockerManifest : MediaType.OciManifest
  const manifest = json({schemaVersion: 2, mediaType: manifestMediaType, config: desc(config), layers: layers.map(desc)})
  return {
    manifest,
    manifestMediaType,
    manifestDigest: sha256(manifest),
    config,
    layers,
    platform: {os: 'linux', architecture, ...(opts.variant ? {variant: opts.variant} : {})},
  }
}

/** A buildx-style attestation manifest for `subject` (platform unknown/unknown in the index). */
export function buildAttestation(subject: BuiltImage): BuiltImage {
  const statement = json({
    _type: 'https://in-toto.io/Statement/v0.1',
    predicateType: 'https://slsa.dev/provenance/v0.2',
    subject: [{name: 'fixture', digest: {sha256: subject.manifestDigest.slice(7)}}],
    predicate: {builder: {id: 'ctr-ts-test'}},
  })
  const layer = {data: statement, digest: sha256(statement), mediaType: 'application/vnd.in-toto+json', diffId: sha256(statement)}
  const configData = json({architecture: 'unknown', os: 'unknown', config: {}, rootfs: {type: 'layers', diff_ids: [layer.digest]}})
  const config: Blob = {data: configData, digest: sha256(configData), mediaType: MediaType.OciConfig}
  const manifest = json({
    schemaVersion: 2,
    mediaType: MediaType.OciManifest,
    config: {mediaType: config.mediaType, digest: config.digest, size: config.data.length},
    layers: [
      {mediaType: layer.mediaType, digest: layer.digest, size: statement.length, annotations: {'in-toto.io/predicate-type': 'https://slsa.dev/provenance/v0.2'}},
    ],
  })
  return {manifest, manifestMediaType: MediaType.OciManifest, manifestDigest: sha256(manifest), config, layers: [layer], platform: {os: 'unknown', architecture: 'unknown'}}
}

export function buildIndex(children: BuiltImage[], docker: boolean, attestationFor?: BuiltImage): BuiltIndex {
  const all = [...children]
  const manifests: Descriptor[] = children.map((c) => ({
    mediaType: c.manifestMediaType,
    digest: c.manifestDigest,
    size: c.manifest.length,
    platform: c.platform,
  }))
  if (attestationFor) {
    const att = buildAttestation(attestationFor)
    all.push(att)
    manifests.push({
      mediaType: att.manifestMediaType,
      digest: att.manifestDigest,
      size: att.manifest.length,
      platform: att.platform,
      annotations: {'vnd.docker.reference.type': 'attestation-manifest', 'vnd.docker.reference.digest': attestationFor.manifestDigest},
    })
  }
  const mediaType = docker ? MediaType.DockerManifestList : MediaType.OciIndex
  const body = json({schemaVersion: 2, mediaType, manifests})
  return {body, mediaType, digest: sha256(body), children: all}
}

export interface BuiltFixtures {
  layers: {base: BuiltLayer; data: BuiltLayer; whiteout: BuiltLayer; web: BuiltLayer}
  busybox: BuiltImage
  multilayer: Record<'gzip' | 'zstd' | 'none' | 'docker', BuiltImage>
  index: BuiltIndex
  indexDocker: BuiltIndex
  web: BuiltImage
}

export async function buildFixtures(busybox = '/bin/busybox'): Promise<BuiltFixtures> {
  const base = await buildLayer(baseLayerEntries(busybox), 'ADD busybox-static rootfs /')
  const data = await buildLayer(dataLayerEntries(), 'ADD data /')
  const whiteout = await buildLayer(whiteoutLayerEntries(), 'RUN rm /data/gone && rm -rf /data/dir && mkdir /data/dir && echo new > /data/dir/new')
  const web = await buildLayer(webLayerEntries(), 'ADD www /www')
  const ml = [base, data, whiteout]
  const busyboxImg = buildImage({layers: [base]})
  const arm64 = buildImage({layers: [base], architecture: 'arm64', variant: 'v8'})
  return {
    layers: {base, data, whiteout, web},
    busybox: busyboxImg,
    multilayer: {
      gzip: buildImage({layers: ml, compression: 'gzip'}),
      zstd: buildImage({layers: ml, compression: 'zstd'}),
      none: buildImage({layers: ml, compression: 'none'}),
      docker: buildImage({layers: ml, docker: true}),
    },
    index: buildIndex([busyboxImg, arm64], false, busyboxImg),
    indexDocker: buildIndex([buildImage({layers: [base], docker: true}), buildImage({layers: [base], docker: true, architecture: 'arm64', variant: 'v8'})], true),
    web: buildImage({layers: [base, web], cmd: WEB.cmd, exposedPorts: {'80/tcp': {}}}),
  }
}

async function pushImage(client: RegistryClient, repo: string, reference: string, img: BuiltImage): Promise<void> {
  for (const b of [img.config, ...img.layers]) await client.pushBlob(repo, b.data, b.digest)
  await client.pushManifest(repo, reference, img.manifest, img.manifestMediaType)
}

async function pushIndex(client: RegistryClient, repo: string, tag: string, index: BuiltIndex): Promise<void> {
  for (const child of index.children) await pushImage(client, repo, child.manifestDigest, child)
  await client.pushManifest(repo, tag, index.body, index.mediaType)
}

function info(host: string, repo: string, tag: string, img: BuiltImage, indexDigest?: string): FixtureInfo {
  return {
    ref: `${host}/${repo}:${tag}`,
    manifestDigest: img.manifestDigest,
    configDigest: img.config.digest,
    layerDigests: img.layers.map((l) => l.digest),
    diffIds: img.layers.map((l) => l.diffId),
    ...(indexDigest ? {indexDigest} : {}),
  }
}

/**
 * Push every fixture. `plain` and `auth` are host:port; pushes to `auth` use the admin account.
 * Returns the fixture table tests get through testEnv().fixtures.
 */
export async function pushFixtures(built: BuiltFixtures, plain: string, auth: string): Promise<Record<string, FixtureInfo>> {
  const p = new RegistryClient(plain)
  const a = new RegistryClient(auth, {user: 'admin', password: 'adminpw'})
  const f = built
  await Promise.all([
    pushImage(p, 'fixtures/busybox', 'latest', f.busybox),
    (async () => {
      for (const c of ['gzip', 'zstd', 'none', 'docker'] as const) await pushImage(p, 'fixtures/multilayer', c, f.multilayer[c])
    })(),
    (async () => {
      await pushIndex(p, 'fixtures/multiarch', 'latest', f.index)
      await pushIndex(p, 'fixtures/multiarch', 'docker', f.indexDocker)
    })(),
    pushImage(p, 'library/alpine', 'latest', f.busybox),
    pushImage(p, 'fixtures/web', 'latest', f.web),
    pushImage(a, 'public/busybox', 'latest', f.busybox),
    pushImage(a, 'private/busybox', 'latest', f.busybox),
  ])
  const [amd64, arm64, attestation] = f.index.children
  const [dAmd64, dArm64] = f.indexDocker.children
  return {
    busybox: info(plain, 'fixtures/busybox', 'latest', f.busybox),
    'multilayer-gzip': info(plain, 'fixtures/multilayer', 'gzip', f.multilayer.gzip),
    'multilayer-zstd': info(plain, 'fixtures/multilayer', 'zstd', f.multilayer.zstd),
    'multilayer-none': info(plain, 'fixtures/multilayer', 'none', f.multilayer.none),
    'multilayer-docker': info(plain, 'fixtures/multilayer', 'docker', f.multilayer.docker),
    /** The index; manifestDigest etc. describe the linux/amd64 entry. */
    index: info(plain, 'fixtures/multiarch', 'latest', amd64, f.index.digest),
    'index-arm64': info(plain, 'fixtures/multiarch', 'latest', arm64, f.index.digest),
    'index-attestation': info(plain, 'fixtures/multiarch', 'latest', attestation, f.index.digest),
    'index-docker': info(plain, 'fixtures/multiarch', 'docker', dAmd64, f.indexDocker.digest),
    'index-docker-arm64': info(plain, 'fixtures/multiarch', 'docker', dArm64, f.indexDocker.digest),
    mirror: info(plain, 'library/alpine', 'latest', f.busybox),
    web: info(plain, 'fixtures/web', 'latest', f.web),
    public: info(auth, 'public/busybox', 'latest', f.busybox),
    private: info(auth, 'private/busybox', 'latest', f.busybox),
  }
}
