import {lstat} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {lowerDirs} from '../store/layers.js'
import {currentMapping} from '../userns/idmap.js'
import {runInUserNs} from '../userns/exec.js'
import {type ContainerRecord, containerPaths} from './record.js'

/** docker diff's change kinds: 0 modified, 1 added, 2 deleted (as the Engine API numbers them). */
export type ChangeKind = 'C' | 'A' | 'D'
export interface Change {
  Path: string
  Kind: ChangeKind
}

const WHITEOUT = '.wh.'
/** Opaque-directory markers (the OCI name, and fuse-overlayfs's own). */
const OPAQUE = new Set(['.wh..wh..opq', '.wh..opq'])
/** ctr-ts's files bound over the rootfs at start (docker keeps them out of diff too). */
const MOUNTED = new Set(['/etc/hostname', '/etc/hosts', '/etc/resolv.conf'])

/**
 * The upper directory's entries as `type path` lines (find's %y), read inside the user namespace
 * so directories owned by the container's other users are readable too.
 */
async function upperEntries(upper: string): Promise<Array<{type: string; path: string}>> {
  const {stdout} = await runInUserNs(currentMapping(), ['find', upper, '-mindepth', '1', '-printf', '%y %P\\0'])
  return stdout
    .split('\0')
    .filter(Boolean)
    .map((line) => ({type: line.slice(0, 1), path: `/${line.slice(2)}`}))
}

async function existsIn(dirs: string[], path: string): Promise<boolean> {
  for (const d of dirs) {
    try {
      await lstat(join(d, path))
      return true
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && (err as NodeJS.ErrnoException).code !== 'ENOTDIR') return true
    }
  }
  return false
}

/**
 * docker diff from the overlay's upper directory: a whiteout (fuse-overlayfs makes them character
 * devices 0/0, or `.wh.NAME` files) is D, an entry the image has is C, any other A. Sorted by path.
 */
export async function containerChanges(ctx: Context, rec: ContainerRecord): Promise<Change[]> {
  const lowers = await lowerDirs(ctx.store, rec.diffIds)
  const out: Array<Change & {dir: boolean}> = []
  for (const e of await upperEntries(containerPaths(ctx, rec.id).upper)) {
    const base = e.path.slice(e.path.lastIndexOf('/') + 1)
    if (OPAQUE.has(base) || MOUNTED.has(e.path)) continue
    if (e.type === 'c') out.push({Path: e.path, Kind: 'D', dir: false})
    else if (base.startsWith(WHITEOUT)) out.push({Path: e.path.slice(0, e.path.length - base.length) + base.slice(WHITEOUT.length), Kind: 'D', dir: false})
    else out.push({Path: e.path, Kind: (await existsIn(lowers, e.path)) ? 'C' : 'A', dir: e.type === 'd'})
  }
  // an image directory copied up only to hold what is left out above (the mount targets) is no change
  const reported = out.filter((c) => !(c.dir && c.Kind === 'C') || out.some((o) => o.Path.startsWith(`${c.Path}/`) && !(o.dir && o.Kind === 'C')))
  return reported.map(({Path, Kind}) => ({Path, Kind})).sort((a, b) => (a.Path < b.Path ? -1 : a.Path > b.Path ? 1 : 0))
}
