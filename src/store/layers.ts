import {existsSync} from 'node:fs'
import {mkdir, mkdtemp, readdir, rename, stat} from 'node:fs/promises'
import {join} from 'node:path'
import {NotFoundError} from '../errors.js'
import {digestFromHex, isDigestHex, parseDigest} from '../oci/digest.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {isStaleTemp} from './temps.js'
import {writeLayerMarker} from './layer-marker.js'

/**
 * The unpacked layers of the store, and the only module that knows their layout:
 *
 *     layers/<diff id hex>/   a complete unpacked layer: unpacked into a temporary directory and
 *                             renamed to its diff id only once its content was verified
 *     layers/<hex>.complete   its completeness marker (store/layer-marker.ts), written just before
 *                             the rename: what `system check --store` verifies
 *     layers/.tmp-PID-XXXXXX/ an unpack in progress (or left by a killed one: see staleLayerTemps)
 *     layers/.empty/          the lower directory of a container whose image has no layers
 *     layers/<hex>.kernel/    the layer's kernel overlayfs form (rootfs driver `overlay`), made
 *                             lazily the first time a container of the kernel driver uses the
 *                             layer: `above/` and `below/`, thin layers stacked around the
 *                             untouched layer that turn its `.wh.` marker files into the kernel's
 *                             whiteouts (see shim/ctr-ts-overlay.c); empty when it has none.
 *                             Removed with the layer (gc), or alone when its layer is gone.
 */

const TEMP_PREFIX = '.tmp-'
const EMPTY = '.empty'
export const KERNEL_FORM_SUFFIX = '.kernel'

/** The directory of the unpacked layer `diffId` (whether or not it exists yet). */
export function layerDir(store: StoreLayout, diffId: string): string {
  return join(store.layers, parseDigest(diffId, 'diff id').hex)
}

/** True when the layer is unpacked (complete) in the store. */
export function hasLayer(store: StoreLayout, diffId: string): boolean {
  return existsSync(layerDir(store, diffId))
}

/** A fresh, empty temporary directory to unpack a layer into (then commitLayer or removal). */
export async function createLayerTemp(store: StoreLayout): Promise<string> {
  ensureDir(store.layers)
  // the pid: gc and `system check --store` know a killed pull's directory by its dead owner
  return mkdtemp(join(store.layers, `${TEMP_PREFIX}${process.pid}-`))
}

/**
 * Makes the verified layer unpacked in `temp` visible as `diffId`. Returns false when another
 * process committed the same layer first: theirs is kept and `temp` is left to the caller to remove.
 */
export async function commitLayer(store: StoreLayout, temp: string, diffId: string, digest: string): Promise<boolean> {
  try {
    await writeLayerMarker(store, diffId, digest)
    await rename(temp, layerDir(store, diffId))
    return true
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'ENOTEMPTY' || code === 'EEXIST') return false
    throw err
  }
}

/**
 * The fuse-overlayfs lower directories of a rootfs made of `diffIds` (bottom layer first, as in
 * an image config): topmost first. An image without layers gets one empty directory. Throws
 * NotFoundError when a layer is not unpacked (removed meanwhile, or never pulled).
 */
export async function lowerDirs(store: StoreLayout, diffIds: readonly string[]): Promise<string[]> {
  if (diffIds.length === 0) {
    const empty = join(store.layers, EMPTY)
    await mkdir(empty, {recursive: true, mode: 0o755})
    return [empty]
  }
  const dirs = diffIds.map((d) => layerDir(store, d)).reverse()
  for (const [i, dir] of dirs.entries()) {
    if (!existsSync(dir)) throw new NotFoundError(`layer ${diffIds[diffIds.length - 1 - i]} is not in the store: pull the image again`)
  }
  return dirs
}

/** The diff ids of every complete unpacked layer. */
export async function listLayers(store: StoreLayout): Promise<string[]> {
  try {
    return (await readdir(store.layers)).filter(isDigestHex).map((n) => digestFromHex(n).value)
  } catch {
    return []
  }
}

/** Temporary unpack directories left by killed pulls (their process is gone, or older than an hour). */
export async function staleLayerTemps(store: StoreLayout): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(store.layers)
  } catch {
    return []
  }
  const out: string[] = []
  for (const n of names.filter((x) => x.startsWith(TEMP_PREFIX))) {
    const path = join(store.layers, n)
    if (await isStaleTemp(path)) out.push(path)
  }
  return out
}

/**
 * The diff id of a lower directory as records of ctr-ts 0.x stored them (absolute paths
 * `…/layers/<diff id hex>`), or undefined for any other directory (their `…/empty`). Only for
 * migrating those records: today's records keep diff ids.
 */
export function diffIdOfLegacyLowerDir(dir: string): string | undefined {
  const parts = dir.split('/')
  const hex = parts.at(-1) ?? ''
  return parts.at(-2) === 'layers' && isDigestHex(hex) ? digestFromHex(hex).value : undefined
}

/** The directory of the layer's kernel overlayfs form (whether or not it exists yet). */
export function kernelFormDir(store: StoreLayout, diffId: string): string {
  return join(store.layers, parseDigest(diffId, 'diff id').hex + KERNEL_FORM_SUFFIX)
}

/** Makes each layer's kernel form in its empty directory `temp`, run where the user may make whiteouts. */
export type KernelFormMaker = (jobs: Array<{layer: string; temp: string}>) => Promise<void>

/**
 * The kernel overlayfs lower directories of a rootfs made of `diffIds` (bottom first), topmost
 * first: each layer between its kernel form's `above/` and `below/` when they exist. The forms
 * missing are made first, at once (each into a temporary directory, then renamed: of two racing
 * makers the first wins, the other's copy is removed by `discard`).
 */
export async function kernelLowerDirs(
  store: StoreLayout,
  diffIds: readonly string[],
  make: KernelFormMaker,
  discard: (...paths: string[]) => Promise<void>,
): Promise<string[]> {
  const plain = await lowerDirs(store, diffIds)
  if (diffIds.length === 0) return plain
  const forms = plain.map((_, i) => kernelFormDir(store, diffIds[diffIds.length - 1 - i]!))
  const jobs: Array<{layer: string; temp: string; form: string}> = []
  for (const [i, form] of forms.entries()) {
    if (!existsSync(form) && !jobs.some((j) => j.form === form)) jobs.push({layer: plain[i]!, temp: await createLayerTemp(store), form})
  }
  if (jobs.length > 0) {
    const leftover: string[] = []
    try {
      await make(jobs.map(({layer, temp}) => ({layer, temp})))
      for (const j of jobs) {
        try {
          await rename(j.temp, j.form)
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw err
          leftover.push(j.temp)
        }
      }
    } catch (err) {
      await discard(...jobs.map((j) => j.temp).filter((p) => existsSync(p)))
      throw err
    }
    if (leftover.length > 0) await discard(...leftover)
  }
  const out: string[] = []
  for (const [i, dir] of plain.entries()) {
    const form = forms[i]!
    if (existsSync(join(form, 'above'))) out.push(join(form, 'above'))
    out.push(dir)
    if (existsSync(join(form, 'below'))) out.push(join(form, 'below'))
  }
  return out
}

/** Kernel forms whose layer is gone (not unpacked any more). */
export async function orphanKernelForms(store: StoreLayout): Promise<string[]> {
  let names: string[]
  try {
    names = await readdir(store.layers)
  } catch {
    return []
  }
  const present = new Set(names)
  return names
    .filter((n) => n.endsWith(KERNEL_FORM_SUFFIX) && isDigestHex(n.slice(0, -KERNEL_FORM_SUFFIX.length)) && !present.has(n.slice(0, -KERNEL_FORM_SUFFIX.length)))
    .map((n) => join(store.layers, n))
}
