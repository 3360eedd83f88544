import {randomBytes} from 'node:crypto'
import {readFile, rename, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import type {StoreLayout} from '../paths.js'
import {parseDigest} from '../oci/digest.js'

/**
 * The completeness marker of an unpacked layer: `layers/<diffid hex>.complete`, written (atomically)
 * by the unpacker after the layer's content was verified against its diff id and just before the
 * layer directory is renamed into place. A layer directory without its marker was never finished
 * by this version of ctr-ts (or lost it): `system check --store` reports it, `--repair` removes it.
 * The marker lives next to the directory, never inside it (the directory is a container's lower layer).
 */
export interface LayerMarker {
  diffId: string
  /** The compressed blob the layer was unpacked from. */
  digest: string
  completedAt: string
}

export const MARKER_SUFFIX = '.complete'

export function layerMarkerPath(store: StoreLayout, diffId: string): string {
  return join(store.layers, `${parseDigest(diffId, 'diff id').hex}${MARKER_SUFFIX}`)
}

export async function writeLayerMarker(store: StoreLayout, diffId: string, digest: string): Promise<void> {
  const path = layerMarkerPath(store, diffId)
  const tmp = join(store.layers, `.tmp-marker-${process.pid}-${randomBytes(6).toString('hex')}`)
  const marker: LayerMarker = {diffId, digest, completedAt: new Date().toISOString()}
  try {
    await writeFile(tmp, JSON.stringify(marker) + '\n', {mode: 0o600, flush: true})
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
}

/** The marker of `diffId`, or undefined when it is missing or does not name that diff id. */
export async function readLayerMarker(store: StoreLayout, diffId: string): Promise<LayerMarker | undefined> {
  try {
    const m = JSON.parse(await readFile(layerMarkerPath(store, diffId), 'utf8')) as Partial<LayerMarker>
    if (m.diffId !== diffId || typeof m.digest !== 'string') return undefined
    return m as LayerMarker
  } catch {
    return undefined
  }
}
