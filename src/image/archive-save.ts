import {createWriteStream} from 'node:fs'
import {mkdtemp, rm, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {pipeline} from 'node:stream/promises'
import type {Writable} from 'node:stream'
import {pack as tarPack, type Pack} from 'tar-stream'
import type {Context} from '../context.js'
import {decompressStreams} from '../layer/decompress.js'
import {compressionOf, MediaType, type ImageRecord} from '../oci/types.js'
import {ensureDir} from '../paths.js'
import {parseReference} from '../reference/parse.js'
import {openBlob, readBlob} from '../store/content.js'
import {findImages} from '../store/images.js'
import {NotFoundError} from '../errors.js'
import {createProcessLease} from '../store/leases.js'

export type ArchiveFormat = 'docker-archive' | 'oci-archive'

const hex = (d: string) => d.replace(/^sha256:/, '')

/** Adds one entry of known size from a stream (tar-stream needs the size first). */
/** Entries belong to the user saving (tools that unpack an archive unprivileged chown to the owner). */
const owner = {uid: process.getuid?.() ?? 0, gid: process.getgid?.() ?? 0}

async function addStream(pack: Pack, name: string, size: number, source: NodeJS.ReadableStream): Promise<void> {
  const entry = pack.entry({name, size, mode: 0o644, mtime: new Date(0), ...owner})
  await pipeline(source, entry as unknown as Writable)
}

function addBytes(pack: Pack, name: string, bytes: Buffer): void {
  pack.entry({name, size: bytes.length, mode: 0o644, mtime: new Date(0), ...owner}, bytes)
}

/** The images `names` designate, each once per id, with every reference asked for under it. */
async function selectImages(ctx: Context, names: string[]): Promise<Array<{record: ImageRecord; refs: string[]}>> {
  const byId = new Map<string, {record: ImageRecord; refs: string[]}>()
  for (const name of names) {
    const {records, byId: wasId} = await findImages(ctx.store, name)
    const first = records[0]
    if (!first) throw new NotFoundError(`no such image: ${name}`)
    const entry = byId.get(first.id) ?? {record: first, refs: []}
    for (const r of wasId ? records : [first]) if (!entry.refs.includes(r.ref)) entry.refs.push(r.ref)
    byId.set(first.id, entry)
  }
  return [...byId.values()]
}

/** A layer as an uncompressed tar file (a temporary one when the blob is compressed). */
async function uncompressedLayer(ctx: Context, tmp: string, l: ImageRecord['layers'][number]): Promise<{open: () => NodeJS.ReadableStream; size: number}> {
  if (compressionOf(l.mediaType) === 'none') return {open: () => openBlob(ctx.store, l.digest), size: l.size}
  const path = join(tmp, hex(l.diffId))
  await pipeline([openBlob(ctx.store, l.digest), ...decompressStreams(l.mediaType, l.digest), createWriteStream(path, {mode: 0o600})])
  const {createReadStream} = await import('node:fs')
  return {open: () => createReadStream(path), size: (await stat(path)).size}
}

/**
 * Writes images as a docker-archive (what `docker load` and `podman load` read: manifest.json,
 * repositories, `<config hex>.json` and each layer as an uncompressed `<diff id hex>.tar`), or as
 * an oci-archive (an OCI image layout: oci-layout, index.json naming each reference, blobs as stored).
 */
export async function saveImages(ctx: Context, names: string[], out: NodeJS.WritableStream, format: ArchiveFormat = 'docker-archive'): Promise<void> {
  const images = await selectImages(ctx, names)
  const lease = await createProcessLease(ctx.store, 'save')
  ensureDir(ctx.store.tmp)
  const tmp = await mkdtemp(join(ctx.store.tmp, `save-${process.pid}-`))
  const pack = tarPack()
  const written = pipeline(pack, out as Writable)
  written.catch(() => {})
  try {
    for (const {record} of images) await lease.add({content: [record.id, record.manifestDigest, ...record.layers.map((l) => l.digest)]})
    if (format === 'oci-archive') {
      for (const d of ['blobs/', 'blobs/sha256/']) pack.entry({name: d, type: 'directory', mode: 0o755, mtime: new Date(0), ...owner})
      addBytes(pack, 'oci-layout', Buffer.from(JSON.stringify({imageLayoutVersion: '1.0.0'})))
      const manifests: unknown[] = []
      const seen = new Set<string>()
      const blob = async (digest: string, size?: number) => {
        if (seen.has(digest)) return
        seen.add(digest)
        const bytes = size === undefined ? await readBlob(ctx.store, digest) : undefined
        if (bytes) addBytes(pack, `blobs/sha256/${hex(digest)}`, bytes)
        else await addStream(pack, `blobs/sha256/${hex(digest)}`, size!, openBlob(ctx.store, digest))
      }
      for (const {record, refs} of images) {
        const manifest = await readBlob(ctx.store, record.manifestDigest)
        await blob(record.id)
        for (const l of record.layers) await blob(l.digest, l.size)
        await blob(record.manifestDigest)
        for (const ref of refs) {
          const parsed = parseReference(ref)
          manifests.push({
            mediaType: record.manifestMediaType,
            digest: record.manifestDigest,
            size: manifest.length,
            annotations: {'io.containerd.image.name': ref, 'org.opencontainers.image.ref.name': parsed.tag ?? ref},
          })
        }
      }
      addBytes(pack, 'index.json', Buffer.from(JSON.stringify({schemaVersion: 2, mediaType: MediaType.OciIndex, manifests})))
    } else {
      const manifest: Array<{Config: string; RepoTags: string[]; Layers: string[]}> = []
      const repositories: Record<string, Record<string, string>> = {}
      const seen = new Set<string>()
      for (const {record, refs} of images) {
        const config = await readBlob(ctx.store, record.id)
        addBytes(pack, `${hex(record.id)}.json`, config)
        const layers: string[] = []
        for (const l of record.layers) {
          const name = `${hex(l.diffId)}.tar`
          layers.push(name)
          if (seen.has(name)) continue
          seen.add(name)
          const layer = await uncompressedLayer(ctx, tmp, l)
          await addStream(pack, name, layer.size, layer.open())
          await rm(join(tmp, hex(l.diffId)), {force: true})
        }
        const tags = refs.map((r) => parseReference(r)).filter((r) => r.tag)
        manifest.push({Config: `${hex(record.id)}.json`, RepoTags: tags.map((r) => r.familiar()), Layers: layers})
        const top = record.layers.at(-1)
        for (const r of tags) if (top) (repositories[r.familiarName] ??= {})[r.tag!] = hex(top.diffId)
      }
      addBytes(pack, 'manifest.json', Buffer.from(JSON.stringify(manifest)))
      addBytes(pack, 'repositories', Buffer.from(JSON.stringify(repositories)))
    }
    pack.finalize()
    await written
  } catch (err) {
    pack.destroy(err as Error)
    throw err
  } finally {
    await rm(tmp, {recursive: true, force: true})
    await lease.release()
  }
}
