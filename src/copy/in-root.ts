/**
 * Paths inside a root directory resolved the way docker's FollowSymlinkInScope does: every
 * symlink met on the way is followed as if `root` were `/` (absolute targets restart at root,
 * `..` never climbs above it), so no path or link in a container can lead the copy outside it.
 */
import {lstatSync, readlinkSync} from 'node:fs'
import {join, posix} from 'node:path'
import {UsageError} from '../errors.js'

const MAX_LINKS = 255

/**
 * The host path of `path` (a path in the container) under `root`. The last component is
 * followed too only with `followLast`. Missing components are kept as they are (a destination
 * that does not exist yet).
 */
export function resolveInRoot(root: string, path: string, followLast: boolean): string {
  let rest = posix.normalize(`/${path}`).split('/').filter(Boolean)
  const done: string[] = []
  let links = 0
  while (rest.length > 0) {
    const part = rest.shift()!
    if (part === '.') continue
    if (part === '..') {
      done.pop()
      continue
    }
    const host = join(root, ...done, part)
    const last = rest.length === 0
    let target: string | undefined
    try {
      if ((!last || followLast) && lstatSync(host).isSymbolicLink()) target = readlinkSync(host)
    } catch {
      target = undefined // missing: kept as is
    }
    if (target === undefined) {
      done.push(part)
      continue
    }
    if (++links > MAX_LINKS) throw new UsageError(`too many levels of symbolic links: ${path}`)
    if (target.startsWith('/')) done.length = 0
    rest = [...target.split('/').filter(Boolean), ...rest]
  }
  return join(root, ...done)
}

/** An archive entry's name made relative and checked: a name climbing out with `..` is refused. */
export function safeEntryName(name: string): string {
  const norm = posix.normalize(name.replace(/^\/+/, ''))
  if (norm === '..' || norm.startsWith('../')) throw new UsageError(`refusing archive entry outside the destination: ${name}`)
  return norm === '.' ? '' : norm.replace(/\/+$/, '')
}
