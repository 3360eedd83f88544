/**
 * The image half of the engine facade: what a front end (the oclif commands, later the API
 * service) does with images, one call each. Functions take typed options and report progress
 * through callbacks; nothing here writes to stdout or stderr: printing is the front end's job.
 */
import {releaseOrphanLeases} from '../container/orphan-leases.js'
import type {Context} from '../context.js'
import {NotFoundError} from '../errors.js'
import {inspectImage, type ImageInspect} from '../image/inspect.js'
import type {ImageRow} from '../image/list.js'
import {pruneImages as pruneStore, removeImages as removeFromStore, type RemoveImagesResult} from '../image/remove.js'
import type {ImageRecord} from '../oci/types.js'
import type {PullEventSink} from '../progress/events.js'
import {parseReference} from '../reference/parse.js'
import type {GcResult} from '../store/gc.js'
import {resolveImage} from '../store/images.js'
import {recordImageEvent} from '../events/journal.js'

export type {ImageInspect, ImageRow, RemoveImagesResult}
export type {PullEvent, PullEventSink} from '../progress/events.js'

export interface PullImageOptions {
  /** os/arch[/variant]; default: config.platform, else the host. */
  platform?: string
  /** Progress: resolving, each layer's download and unpack, notices, pulled. */
  onEvent?: PullEventSink
  env?: NodeJS.ProcessEnv
}

export interface PullImageResult {
  /** The normalized reference pulled (docker.io/library/alpine:latest). */
  ref: string
  image: ImageRecord
}

/** `pull`: fetches, verifies and unpacks an image, then records it under its reference. */
export async function pullImage(ctx: Context, ref: string, opts: PullImageOptions = {}): Promise<PullImageResult> {
  const parsed = parseReference(ref)
  // The registry client (undici) loads only when a pull is needed: it is most of start-up time.
  const pull = await import('../image/pull.js')
  const image = await pull.pullImage(ctx, parsed, {platform: opts.platform, onEvent: opts.onEvent, env: opts.env})
  recordImageEvent(ctx.store, 'pull', parsed.familiar(), {name: parsed.familiarName})
  return {ref: parsed.toString(), image}
}

/**
 * The image `nameOrId` designates (reference, id, unique id prefix, manifest digest); pulled
 * first when it is not in the store and `pull` is given (what `run`/`create` do).
 */
export async function getImage(
  ctx: Context,
  nameOrId: string,
  pull?: {platform?: string; onMissing?: () => void; onEvent?: PullEventSink},
): Promise<ImageRecord> {
  try {
    return await resolveImage(ctx.store, nameOrId)
  } catch (err) {
    if (!(err instanceof NotFoundError) || !pull) throw err
    pull.onMissing?.()
    return (await pullImage(ctx, nameOrId, {platform: pull.platform, onEvent: pull.onEvent})).image
  }
}

// `images`: in image-list.ts, which `images` loads without the rest of this facade.
export {listImages} from './image-list.js'

export interface InspectImagesResult {
  images: ImageInspect[]
  /** Per-name failures (the others are still inspected), in argument order. */
  errors: unknown[]
}

/** `image inspect`: docker-shaped details of each image named. */
export async function inspectImages(ctx: Context, names: string[]): Promise<InspectImagesResult> {
  const images: ImageInspect[] = []
  const errors: unknown[] = []
  for (const name of names) {
    try {
      images.push(await inspectImage(ctx.store, await resolveImage(ctx.store, name)))
    } catch (err) {
      errors.push(err)
    }
  }
  return {images, errors}
}

/** `rmi`: untags/deletes each image, then collects blobs and layers nothing holds. */
export async function removeImages(ctx: Context, names: string[], opts: {force?: boolean} = {}): Promise<RemoveImagesResult> {
  return removeFromStore(ctx.store, names, {
    ...opts,
    onRemoved: (res) => {
      for (const ref of res.untagged) recordImageEvent(ctx.store, 'untag', res.id, {name: familiarRef(ref)})
      for (const id of res.deleted) recordImageEvent(ctx.store, 'delete', id, {name: res.untagged[0] ? familiarRef(res.untagged[0]) : id})
    },
  })
}

/** `image prune`: unreferenced content; with `all`, also every image no container uses. */
export async function pruneImages(ctx: Context, opts: {all?: boolean; filters?: readonly string[]} = {}): Promise<{lines: string[]; gc: GcResult}> {
  await releaseOrphanLeases(ctx)
  return pruneStore(ctx.store, opts)
}

export type {PushEvent, PushEventSink} from '../progress/push-events.js'
export type {PushResult, LayerCompression} from '../image/push.js'

/** `push`: uploads an image of the store (and its index when complete) to its registry or to `dest`. */
export async function pushImage(
  ctx: Context,
  image: string,
  opts: {dest?: string; onEvent?: import('../progress/push-events.js').PushEventSink; compression?: import('../image/push.js').LayerCompression; env?: NodeJS.ProcessEnv} = {},
): Promise<import('../image/push.js').PushResult> {
  const push = await import('../image/push.js')
  return push.pushImage(ctx, image, opts)
}

export type {ArchiveFormat} from '../image/archive-save.js'
export type {LoadResult} from '../image/archive-load.js'

/** `save`: writes images as a docker-archive or oci-archive tar to `out`. */
export async function saveImages(ctx: Context, names: string[], out: NodeJS.WritableStream, format: import('../image/archive-save.js').ArchiveFormat): Promise<void> {
  const save = await import('../image/archive-save.js')
  await save.saveImages(ctx, names, out, format)
}

/** `load`: reads a docker-archive or oci-archive (gzip-compressed or not) into the store. */
export async function loadImages(ctx: Context, input: NodeJS.ReadableStream): Promise<import('../image/archive-load.js').LoadResult> {
  const load = await import('../image/archive-load.js')
  return load.loadImages(ctx, input)
}

/** `import`: a root filesystem tar (file, URL or stdin; plain or gzip) as a one-layer image. */
export async function importImage(
  ctx: Context,
  input: import('node:stream').Readable,
  opts: import('../image/commit.js').CommitOptions,
): Promise<import('../image/commit.js').CommittedImage> {
  const commit = await import('../image/commit.js')
  return commit.importTarball(ctx, input, opts)
}

function familiarRef(ref: string): string {
  try {
    return parseReference(ref).familiar()
  } catch {
    return ref
  }
}

export type {BuildOptions, BuildResult} from '../build/builder.js'

/** `build`: a Dockerfile's target stage as an image (RUN steps run in ctr-ts containers); progress to `opts.progress`. */
export async function buildImage(ctx: Context, opts: import('../build/builder.js').BuildOptions): Promise<import('../build/builder.js').BuildResult> {
  const {buildImage: build} = await import('../build/builder.js')
  return build(ctx, opts)
}
