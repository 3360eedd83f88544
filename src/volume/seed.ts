import {lstat, mkdtemp, rmdir} from 'node:fs/promises'
import {join} from 'node:path'
import {ensureDir, type StoreLayout} from '../paths.js'
import {fuseOverlayReadOnlyCommand} from '../rootfs/overlay.js'
import {withStoreLock} from '../store/lock.js'
import {markVolumePopulated, volumeIsEmpty, volumePopulated} from '../store/volumes.js'
import {runInUserNs} from '../userns/exec.js'
import {currentMapping} from '../userns/idmap.js'
import {type ContainerMount, seedableMounts} from './mounts.js'

/**
 * docker's copy-up: a volume that is empty when a container mounts it gets what the image has at
 * the mount point, owners, modes, links and all, and the mount point's own owner and mode.
 *
 * Inside the user namespace (where the user is root over every mapped id) the image's layers are
 * mounted read-only with the container's driver (whiteouts applied, as the container sees them) and
 * `cp -a` copies each mount point's content into its volume. A mount point reached through a
 * symbolic link is not copied (docker resolves those inside the rootfs; here they are skipped).
 *
 * Unlike docker, a volume found with content once is remembered as such (store/volumes.ts
 * markVolumePopulated, like podman's NeedsCopyUp): later starts do not enter the user namespace
 * to look again, so a volume emptied by hand is not seeded a second time.
 */
const SCRIPT = [
  // $1 the mount point, $2 N, then the read-only mount's argv (N words), then the (destination, volume) pairs
  'mnt=$1 n=$2; shift 2',
  // runs the first K of its arguments as a command (the mount)
  'first() { k=$1; shift; c=0; for a; do shift; [ $c -lt $k ] && set -- "$@" "$a"; c=$((c+1)); done; "$@"; }',
  // a volume with content is never seeded: say so (the CLI remembers it), and mount nothing
  // unless one is empty
  'need=; i=0; j=0',
  'for a in "$@"; do j=$((j+1)); [ $j -gt "$n" ] || continue; i=$((i+1)); [ $((i%2)) -eq 0 ] || continue; if [ -z "$(ls -A "$a")" ]; then need=1; else echo "populated $i"; fi; done',
  '[ -n "$need" ] || exit 0',
  'first "$n" "$@" || exit 1',
  'shift "$n"',
  'root=$(cd "$mnt" && pwd -P) || exit 1',
  'rc=0; i=0',
  'while [ $# -ge 2 ]; do',
  '  src=$root$1 dst=$2; shift 2; i=$((i+2))',
  '  [ -d "$src" ] || continue',
  '  [ "$(cd "$src" 2>/dev/null && pwd -P)" = "$src" ] || continue',
  '  [ -z "$(ls -A "$dst")" ] || continue',
  '  cp -a "$src/." "$dst/" || { rc=1; continue; }',
  '  [ -z "$(ls -A "$dst")" ] || echo "populated $i"',
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

/**
 * Seeds the container's empty volumes from the image layers `lowerDirs` (topmost first).
 * `readOnlyMount` gives the argv of a read-only mount of the layers at a mount point (the
 * container's driver; default fuse-overlayfs of `lowerDirs`).
 */
export async function seedVolumes(
  store: StoreLayout,
  mounts: readonly ContainerMount[] | undefined,
  lowerDirs: string[],
  readOnlyMount: (merged: string) => Promise<string[]> = async (merged) => fuseOverlayReadOnlyCommand(lowerDirs, merged),
): Promise<void> {
  const todo: ContainerMount[] = []
  for (const m of seedableMounts(mounts)) {
    if (!(await imageMayHave(lowerDirs, m.destination))) continue
    if (volumePopulated(store, m.name!) || (await volumeIsEmpty(store, m.name!)) === false) continue
    todo.push(m)
  }
  if (todo.length === 0) return
  await withStoreLock(store, 'volume-seed', async () => {
    const mnt = await mkdtemp(join(ensureDir(store.tmp), 'seed-'))
    try {
      const argv = await readOnlyMount(mnt)
      const pairs = todo.flatMap((m) => [m.destination, m.source])
      const {stdout} = await runInUserNs(currentMapping(), ['/bin/sh', '-c', SCRIPT, 'seed', mnt, String(argv.length), ...argv, ...pairs], {mount: true})
      // `populated N`: the volume of pair N/2 has content (seeded now, or before): not seeded again
      for (const m of stdout.matchAll(/^populated (\d+)$/gm)) {
        const mount = todo[Number(m[1]) / 2 - 1]
        if (mount) await markVolumePopulated(store, mount.name!)
      }
    } finally {
      await rmdir(mnt).catch(() => undefined)
    }
  })
}
