import {lstat, mkdtemp, rmdir} from 'node:fs/promises'
import {join} from 'node:path'
import {ensureDir, type StoreLayout} from '../paths.js'
import {fuseOverlayReadOnlyCommand} from '../rootfs/overlay.js'
import {withStoreLock} from '../store/lock.js'
import {volumeIsEmpty} from '../store/volumes.js'
import {runInUserNs} from '../userns/exec.js'
import {currentMapping} from '../userns/idmap.js'
import {type ContainerMount, seedableMounts} from './mounts.js'

/**
 * docker's copy-up: a volume that is empty when a container mounts it gets what the image has at
 * the mount point, owners, modes, links and all, and the mount point's own owner and mode.
 *
 * Inside the user namespace (where the user is root over every mapped id) the image's layers are
 * mounted read-only with fuse-overlayfs (whiteouts applied, as the container sees them) and
 * `cp -a` copies each mount point's content into its volume. A mount point reached through a
 * symbolic link is not copied (docker resolves those inside the rootfs; here they are skipped).
 */
const SCRIPT = [
  'prog=$1 opts=$2 mnt=$3; shift 3',
  // nothing to do unless a volume is empty: then no mount at all
  'need=; i=0; for a in "$@"; do i=$((i+1)); [ $((i%2)) -eq 0 ] && [ -z "$(ls -A "$a")" ] && need=1; done',
  '[ -n "$need" ] || exit 0',
  '"$prog" -o "$opts" "$mnt" || exit 1',
  'root=$(cd "$mnt" && pwd -P) || exit 1',
  'rc=0',
  'while [ $# -ge 2 ]; do',
  '  src=$root$1 dst=$2; shift 2',
  '  [ -d "$src" ] || continue',
  '  [ "$(cd "$src" 2>/dev/null && pwd -P)" = "$src" ] || continue',
  '  [ -z "$(ls -A "$dst")" ] || continue',
  '  cp -a "$src/." "$dst/" || rc=1',
  'done',
  'umount "$mnt" || umount -l "$mnt"',
  'exit $rc',
].join('\n')

async function imageMayHave(lowerDirs: readonly string[], path: string): Promise<boolean> {
  for (const dir of lowerDirs) {
    try {
      await lstat(join(dir, path))
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') return true
    }
  }
  return false
}

/** Seeds the container's empty volumes from the image layers `lowerDirs` (topmost first). */
export async function seedVolumes(store: StoreLayout, mounts: readonly ContainerMount[] | undefined, lowerDirs: string[]): Promise<void> {
  const todo: ContainerMount[] = []
  for (const m of seedableMounts(mounts)) {
    if (!(await imageMayHave(lowerDirs, m.destination))) continue
    if ((await volumeIsEmpty(store, m.name!)) === false) continue
    todo.push(m)
  }
  if (todo.length === 0) return
  await withStoreLock(store, 'volume-seed', async () => {
    const mnt = await mkdtemp(join(ensureDir(store.tmp), 'seed-'))
    try {
      const cmd = fuseOverlayReadOnlyCommand(lowerDirs, mnt)
      const pairs = todo.flatMap((m) => [m.destination, m.source])
      await runInUserNs(currentMapping(), ['/bin/sh', '-c', SCRIPT, 'seed', cmd.program, cmd.options, cmd.merged, ...pairs], {mount: true})
    } finally {
      await rmdir(mnt).catch(() => undefined)
    }
  })
}
