import type {Context} from '../context.js'
import {PrerequisiteError} from '../errors.js'
import {which} from '../runtime/binaries.js'

/**
 * The init for `--init`: tini or catatonit from the distro. The statically linked builds come
 * first because the binary is bind-mounted into images that may have no libc at all.
 */
export function findInitBinary(ctx: Context): string {
  if (ctx.config.init.path) return ctx.config.init.path
  for (const name of ['tini-static', 'catatonit', 'tini']) {
    const path = which(name)
    if (path) return path
  }
  throw new PrerequisiteError('--init needs tini or catatonit: apt-get install tini (or catatonit)')
}
