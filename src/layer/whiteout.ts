/**
 * Whiteouts: how a layer says "this path of the layers below is deleted".
 *
 * In layer tarballs (OCI image-spec, inherited from AUFS) a whiteout is an entry whose base name is
 * `.wh.NAME` (deletes NAME from the lower layers) or `.wh..wh..opq` (the directory holding it is
 * opaque: everything the lower layers have in it is hidden). Other `.wh..wh.*` names are AUFS
 * bookkeeping (`.wh..wh.plnk`, `.wh..wh.aufs`) and are ignored, as docker does.
 *
 * On-disk form (decided here, used by every unpacked layer): we KEEP the tarball form, i.e. an
 * empty regular file `.wh.NAME` / `.wh..wh..opq` in the layer directory. fuse-overlayfs 1.10 reads
 * both in lower directories (checked on this machine: it hides NAME and the marker files
 * themselves, and an opaque marker hides the lower directory's contents). It also understands
 * overlayfs-style char-device 0/0 whiteouts, which this kernel even lets a user namespace create,
 * but Node has no mknod() and `.wh.` files work on any kernel and filesystem, so we do not use them.
 * A char-device 0/0 entry found in a tarball (overlay-style layer) is converted to `.wh.NAME`.
 *
 * One subtlety, also checked: fuse-overlayfs lets a `.wh.NAME` hide NAME even when NAME is in the
 * SAME layer directory. So when a layer has both (whiteout first, then a new NAME: docker's way to
 * say "replace"), the unpacker removes `.wh.NAME` and, if NAME is a directory, marks it opaque.
 */

export const WHITEOUT_PREFIX = '.wh.'
export const OPAQUE_MARKER = '.wh..wh..opq'
const META_PREFIX = '.wh..wh.'

export type WhiteoutRule =
  /** `.wh.NAME`: NAME (in the same directory) is deleted from the lower layers. */
  | {kind: 'whiteout'; target: string}
  /** `.wh..wh..opq`: the directory holding the marker hides the lower layers' contents. */
  | {kind: 'opaque'}
  /** `.wh..wh.*` AUFS bookkeeping: skipped. */
  | {kind: 'meta'}
  /** `.wh.` with an unusable NAME (empty, `.` or `..`, or containing `/`): refused by the caller. */
  | {kind: 'invalid'; reason: string}

/** The rule a base name stands for, or undefined for an ordinary name. */
export function parseWhiteout(baseName: string): WhiteoutRule | undefined {
  if (!baseName.startsWith(WHITEOUT_PREFIX)) return undefined
  if (baseName === OPAQUE_MARKER) return {kind: 'opaque'}
  if (baseName.startsWith(META_PREFIX)) return {kind: 'meta'}
  const target = baseName.slice(WHITEOUT_PREFIX.length)
  if (target === '' || target === '.' || target === '..' || target.includes('/')) {
    return {kind: 'invalid', reason: `whiteout ${JSON.stringify(baseName)} names no file`}
  }
  return {kind: 'whiteout', target}
}

/** The base name of the on-disk whiteout for NAME. */
export function whiteoutName(name: string): string {
  return WHITEOUT_PREFIX + name
}
