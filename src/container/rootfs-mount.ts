import type {Context} from '../context.js'
import {kernelOverlayCommand, kernelOverlayReadOnlyCommand, makeKernelForms} from '../rootfs/kernel-overlay.js'
import {fuseOverlayCommand, fuseOverlayReadOnlyCommand} from '../rootfs/overlay.js'
import {trace} from '../trace.js'
import {kernelLowerDirs, lowerDirs} from '../store/layers.js'
import {removeTree} from '../userns/remove.js'
import {type ContainerRecord, containerPaths} from './record.js'

/** The rootfs driver a container was created with (records without one: fuse-overlayfs). */
export function rootfsDriverOf(rec: Pick<ContainerRecord, 'rootfsDriver'>): 'fuse-overlayfs' | 'overlay' {
  return rec.rootfsDriver ?? 'fuse-overlayfs'
}

/**
 * The program and arguments that mount a container's rootfs (run in its user namespace, by the
 * shim or by cp's helper), by the container's driver. The kernel driver makes the kernel form of
 * its layers first, once per layer.
 */
export async function rootfsMountCommand(ctx: Context, rec: ContainerRecord): Promise<{program: string; args: string[]}> {
  const paths = containerPaths(ctx, rec.id)
  const dirs = {upper: paths.upper, work: paths.work, merged: paths.merged}
  if (rootfsDriverOf(rec) === 'overlay') {
    const lowers = await trace.phase('rootfs: kernel form of layers', () => kernelLowerDirs(ctx.store, rec.diffIds, makeKernelForms, removeTree))
    return kernelOverlayCommand({...dirs, lowerDirs: lowers})
  }
  return fuseOverlayCommand({...dirs, lowerDirs: await lowerDirs(ctx.store, rec.diffIds)})
}

/** The argv of a read-only mount of the container's layers alone at `merged` (volume seeding), by its driver. */
export async function layersReadOnlyMount(ctx: Context, rec: ContainerRecord, merged: string): Promise<string[]> {
  if (rootfsDriverOf(rec) === 'overlay') return kernelOverlayReadOnlyCommand(await kernelLowerDirs(ctx.store, rec.diffIds, makeKernelForms, removeTree), merged)
  return fuseOverlayReadOnlyCommand(await lowerDirs(ctx.store, rec.diffIds), merged)
}
