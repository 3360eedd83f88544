import {Readable} from 'node:stream'
import {createGunzip} from 'node:zlib'
import type {Context} from '../context.js'
import {NotFoundError, UsageError} from '../errors.js'
import {sniffCompression} from '../layer/decompress.js'
import {startDiffTar} from '../layer/diff-tar-run.js'
import type {ImageConfig, ImageRecord} from '../oci/types.js'
import {isReference, parseReference} from '../reference/parse.js'
import {hasBlob, readBlob} from '../store/content.js'
import {listImages} from '../store/images.js'
import {createProcessLease} from '../store/leases.js'
import {applyChanges} from './config-changes.js'
import {storeLayerTar} from './layer-blob.js'
import {recordLocalImage} from './local-image.js'
import {hostPlatform} from './platform.js'

export interface CommitOptions {
  /** The image's name (docker: optional; ctr-ts keeps only named images). */
  ref: string
  changes?: string[]
  message?: string
  author?: string
}

export interface CommittedImage {
  ref: string
  id: string
}

function targetRef(ref: string): string {
  if (!isReference(ref) || ref.startsWith('sha256:')) throw new UsageError(`invalid reference format: ${JSON.stringify(ref)}`)
  const parsed = parseReference(ref)
  if (parsed.digest) throw new UsageError(`invalid reference format: ${JSON.stringify(ref)} names a digest`)
  return parsed.toString()
}

/** The container as `commit` sees it: its image id and layers, and its overlay's upper directory. */
export interface CommitSource {
  name: string
  image: string
  diffIds: string[]
  upper: string
}

/**
 * `commit`: the container's changes (its upper directory, whiteouts and owners as the container
 * sees them) become one new gzip layer on top of its image's layers; the image configuration is
 * the image's with `changes` applied, the new diff id and a history entry.
 */
export async function commitContainer(ctx: Context, src: CommitSource, opts: CommitOptions): Promise<CommittedImage> {
  const ref = targetRef(opts.ref)
  if (opts.changes) applyChanges({}, opts.changes) // a bad instruction is refused before any work
  const base = (await listImages(ctx.store)).find((r: ImageRecord) => r.id === src.image)
  if (!base || !(await hasBlob(ctx.store, src.image))) throw new NotFoundError(`the image of container ${src.name} (${src.image.slice(7, 19)}) is no longer in the store`)
  const lease = await createProcessLease(ctx.store, 'commit')
  try {
    await lease.add({content: [src.image, ...base.layers.map((l) => l.digest)], layers: src.diffIds})
    const baseConfig = JSON.parse((await readBlob(ctx.store, src.image)).toString('utf8')) as ImageConfig
    const writer = startDiffTar({mode: 'diff', dir: src.upper})
    const [layer] = await Promise.all([storeLayerTar(ctx.store, writer.tar), writer.done])
    await lease.add({content: [layer!.digest]})
    const created = new Date().toISOString()
    const config: ImageConfig = {
      ...baseConfig,
      created,
      ...(opts.author ? {author: opts.author} : {}),
      config: applyChanges(baseConfig.config ?? {}, opts.changes ?? []),
      rootfs: {type: 'layers', diff_ids: [...baseConfig.rootfs.diff_ids, layer!.diffId]},
      history: [...(baseConfig.history ?? []), {created, created_by: 'ctr-ts commit', ...(opts.message ? {comment: opts.message} : {})}],
    }
    const bytes = Buffer.from(JSON.stringify(config))
    const record = await recordLocalImage(ctx, {config: bytes, layers: [...base.layers, layer!], refs: [ref]}, lease)
    return {ref, id: record.id}
  } finally {
    await lease.release()
  }
}

/** The input of `import`, gunzipped when it starts with the gzip magic. */
async function plain(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]()
  const first = await it.next()
  const head: Buffer = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Buffer)
  const all = Readable.from(
    (async function* () {
      if (head.length > 0) yield head
      for (;;) {
        const n = await it.next()
        if (n.done) return
        yield Buffer.from(n.value as Buffer)
      }
    })(),
  )
  return sniffCompression(head) === 'gzip' ? all.pipe(createGunzip()) : all
}

/** `import`: a root filesystem tar (plain or gzip) becomes a one-layer image. */
export async function importTarball(ctx: Context, input: Readable, opts: CommitOptions & {platform?: string}): Promise<CommittedImage> {
  const ref = targetRef(opts.ref)
  const runConfig = applyChanges({}, opts.changes ?? [])
  const lease = await createProcessLease(ctx.store, 'import')
  try {
    const layer = await storeLayerTar(ctx.store, await plain(input))
    await lease.add({content: [layer.digest]})
    const created = new Date().toISOString()
    const platform = hostPlatform()
    const config: ImageConfig = {
      created,
      ...(opts.author ? {author: opts.author} : {}),
      architecture: platform.architecture,
      os: 'linux',
      ...(platform.variant ? {variant: platform.variant} : {}),
      config: runConfig,
      rootfs: {type: 'layers', diff_ids: [layer.diffId]},
      history: [{created, created_by: 'ctr-ts import', ...(opts.message ? {comment: opts.message} : {})}],
    }
    const record = await recordLocalImage(ctx, {config: Buffer.from(JSON.stringify(config)), layers: [layer], refs: [ref]}, lease)
    return {ref, id: record.id}
  } finally {
    await lease.release()
  }
}
