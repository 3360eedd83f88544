/**
 * The image half of the engine facade: what a front end (the oclif commands, later the API
 * service) does with images, one call each. Functions take typed options and report progress
 * through callbacks; nothing here writes to stdout or stderr: printing is the front end's job.
 */
import {releaseOrphanLeases} from '../container/orphan-leases.js'
import type {Context} from '../context.js'
import {NotFoundError} from '../errors.js'
import {inspectImage, type ImageInspect} from '../image/inspect.js'
import {imageRows, type ImageRow} from '../image/list.js'
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

/** `images`: one row per image reference, newest pull first. */
export async function listImages(ctx: Context): Promise<ImageRow[]> {
  return imageRows(ctx.store)
}

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
export async function pruneImages(ctx: Context, opts: {all?: boolean} = {}): Promise<{lines: string[]; gc: GcResult}> {
  await releaseOrphanLeases(ctx)
  return pruneStore(ctx.store, opts)
}

function familiarRef(ref: string): string {
  try {
    return parseReference(ref).familiar()
  } catch {
    return ref
  }
}
