import {helperPath} from '../userns/helpers.js'
import {runInUserNs} from '../userns/exec.js'
import {currentMapping} from '../userns/idmap.js'
import type {OverlayDirs} from './overlay.js'

/**
 * The kernel's own overlayfs as the rootfs driver (`rootfs.driver: overlay`): mounted by
 * shim/ctr-ts-overlay inside the container's user namespace with `userxattr` (Linux 5.11+), so no
 * FUSE daemon serves the container's file system. The layers stay as unpacked (`.wh.` marker
 * files); each gets a thin kernel form once (kernelFormMaker) that turns its markers into the
 * kernel's whiteouts.
 */
export function kernelOverlayCommand(dirs: OverlayDirs): {program: string; args: string[]} {
  const program = helperPath('ctr-ts-overlay')
  return {program, args: ['mount', ...dirs.lowerDirs.flatMap((d) => ['--lower', d]), '--upper', dirs.upper, '--work', dirs.work, dirs.merged]}
}

/** A read-only kernel overlay of the lower directories alone (kernel forms included): the argv of the mount. */
export function kernelOverlayReadOnlyCommand(lowerDirs: string[], merged: string): string[] {
  return [helperPath('ctr-ts-overlay'), 'mount', ...lowerDirs.flatMap((d) => ['--lower', d]), merged]
}

/** Makes the kernel form of each layer in its empty directory, in the user namespace (0/0 devices, the opaque xattr, layer owners): one helper run. */
export async function makeKernelForms(jobs: Array<{layer: string; temp: string}>): Promise<void> {
  await runInUserNs(currentMapping(), [helperPath('ctr-ts-overlay'), 'prepare', ...jobs.flatMap((j) => [j.layer, j.temp])])
}
