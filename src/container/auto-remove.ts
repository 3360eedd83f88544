import {join} from 'node:path'
import type {Context} from '../context.js'
import {containerExists, removeContainer} from './lifecycle.js'
import {volumeDir, volumeRefFile, volumeRefs} from '../store/volumes.js'
import {leaseFile} from '../store/leases.js'
import {shellEventAppend} from '../events/journal.js'
import {reservationFiles} from './networks.js'
import {type ContainerRecord, containerLeaseId, containerPaths, findContainer} from './record.js'

/**
 * `--rm`, in one place. The container is removed when it exits, whoever is around:
 * - the shim runs `exitCommand` after the container is gone (it is root of the container's user
 *   namespace there, so it can delete files owned by any mapped id), before it reports the exit,
 *   so a foreground `run --rm` returns only once everything is gone;
 * - `settleAutoRemove` is called by whoever saw the container end or fail to start (a start that
 *   failed, a foreground run that got the exit code) and removes what the shim could not (a shim
 *   that was killed or never ran).
 */
export async function autoRemoveExitCommand(ctx: Context, rec: ContainerRecord): Promise<string[] | undefined> {
  if (!rec.autoRemove) return undefined
  const paths = containerPaths(ctx, rec.id)
  // its use of volumes, and its anonymous volumes that no other container uses (docker's --rm)
  const volumes: string[] = []
  for (const m of rec.mounts ?? []) {
    if (m.type !== 'volume' || !m.name) continue
    const others = (await volumeRefs(ctx.store, m.name)).filter((id) => id !== rec.id && containerExists(ctx, id))
    volumes.push(m.anonymous && others.length === 0 ? volumeDir(ctx.store, m.name) : volumeRefFile(ctx.store, m.name, rec.id))
  }
  // the `destroy` event as `rm` records it, then the removal, exec'd: once the container's
  // directory is gone nothing of it is left running (a script still appending would be)
  const script = `{ ${shellEventAppend(ctx.store, rec, 'destroy')}; } 2>/dev/null; exec /bin/rm -rf -- "$@"`
  return ['/bin/sh', '-c', script, 'sh', paths.dir, paths.runDir, join(ctx.store.names, rec.name), ...volumes, ...reservationFiles(ctx, rec), leaseFile(ctx.store, containerLeaseId(rec.id))]
}

/** Removes an exited (or never started) `--rm` container that is still there; a no-op otherwise. */
export async function settleAutoRemove(ctx: Context, rec: ContainerRecord): Promise<void> {
  if (!rec.autoRemove) return
  const still = await findContainer(ctx, rec.id).catch(() => undefined)
  if (still) await removeContainer(ctx, still, true, {volumes: true}).catch(() => undefined)
}
