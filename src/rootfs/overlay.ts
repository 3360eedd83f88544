import {requireBinary} from '../runtime/binaries.js'

export interface OverlayDirs {
  /** Layer directories, topmost first. */
  lowerDirs: string[]
  upper: string
  work: string
  merged: string
}

function escapeOption(path: string): string {
  // fuse-overlayfs splits options on ',' and lowerdir on ':'; backslash escapes both.
  return path.replace(/\\/g, '\\\\').replace(/,/g, '\\,').replace(/:/g, '\\:')
}

/**
 * The fuse-overlayfs command that mounts a container's root filesystem. It runs inside the
 * container's user namespace (as its root), so files keep their image owners and `allow_other`
 * lets container processes of any uid use the mount. Writes go through to the upper directory
 * (writeback=0), so a full disk is an error of the write() that hit it.
 */
export function fuseOverlayCommand(dirs: OverlayDirs): {program: string; args: string[]} {
  const program = requireBinary('fuse-overlayfs', 'install it (apt-get install fuse-overlayfs)')
  const lower = dirs.lowerDirs.map(escapeOption).join(':')
  // writeback=0: with fuse-overlayfs's default writeback cache a write() on a full disk succeeds
  // and the data is silently lost (the error only surfaces at close, which shells ignore);
  // write-through returns ENOSPC from write() itself, as overlayfs does (issue 17 fault tests).
  const options = [`lowerdir=${lower}`, `upperdir=${escapeOption(dirs.upper)}`, `workdir=${escapeOption(dirs.work)}`, 'allow_other', 'writeback=0']
  return {program, args: ['-o', options.join(','), dirs.merged]}
}

/**
 * A read-only fuse-overlayfs mount of the layers alone (no upper directory): the image's view of
 * its files, whiteouts applied, e.g. to seed a volume with what the image has at its mount point.
 * Run inside the user namespace, like the container's mount. The argv of the mount.
 */
export function fuseOverlayReadOnlyCommand(lowerDirs: string[], merged: string): string[] {
  const program = requireBinary('fuse-overlayfs', 'install it (apt-get install fuse-overlayfs)')
  return [program, '-o', `lowerdir=${lowerDirs.map(escapeOption).join(':')}`, merged]
}
