/**
 * docker cp's path rules (docker/docs "cp"): where a source lands given what exists at the
 * destination. The archive of a source names its top entry after the source's base name.
 */
import {posix} from 'node:path'
import {UsageError} from '../errors.js'

export interface SourceInfo {
  isDir: boolean
  /** SRC ends with `/.`: a directory's contents, not the directory. */
  contentsOnly: boolean
}

export interface DestInfo {
  /** The destination as given (a trailing `/` matters). */
  path: string
  exists: boolean
  isDir: boolean
  /** Whether the destination's parent exists as a directory (when it does not exist itself). */
  parentIsDir: boolean
}

/** Extract into `dir`; the top entry renamed to `rename`, or dropped (its children kept) with `strip`. */
export interface CopyPlan {
  dir: string
  rename?: string
  strip: boolean
}

export function planCopy(src: SourceInfo, dest: DestInfo): CopyPlan {
  const trailingSlash = dest.path.endsWith('/') || dest.path.endsWith('/.')
  const clean = posix.normalize(dest.path).replace(/\/+$/, '') || '/'
  if (dest.exists) {
    if (dest.isDir) return src.isDir && src.contentsOnly ? {dir: clean, strip: true} : {dir: clean, strip: false}
    if (src.isDir) throw new UsageError(`cannot copy a directory to a file: ${dest.path}`)
    if (trailingSlash) throw new UsageError(`not a directory: ${dest.path}`)
    return {dir: posix.dirname(clean), rename: posix.basename(clean), strip: false}
  }
  if (!src.isDir && trailingSlash) throw new UsageError(`no such directory: ${dest.path}`)
  if (!dest.parentIsDir) throw new UsageError(`no such file or directory: ${posix.dirname(clean)}`)
  return {dir: posix.dirname(clean), rename: posix.basename(clean), strip: false}
}

/** An entry name of the source archive (`top/...`) where the plan puts it, relative to the plan's dir; undefined: skipped. */
export function plannedName(name: string, plan: CopyPlan): string | undefined {
  const slash = name.indexOf('/')
  const top = slash === -1 ? name : name.slice(0, slash)
  const rest = slash === -1 ? '' : name.slice(slash + 1)
  if (plan.strip) return rest || undefined
  const head = plan.rename ?? top
  return rest ? `${head}/${rest}` : head
}
