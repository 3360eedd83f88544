/** docker cp through the engine: between a container (running or not) and the host or a tar stream. */
import type {Readable, Writable} from 'node:stream'
import type {Context} from '../context.js'
import {copyFromContainer, copyToContainer} from '../container/copy.js'
import {findContainer} from '../container/record.js'
import {UsageError} from '../errors.js'

/** One side of `cp`: a container path (`CTR:PATH`) or a host path (`-`: a tar stream). */
export type CopyEndpoint = {container: string; path: string} | {container?: undefined; path: string}

/** docker's splitCpArg: `NAME:PATH` names a container unless the text is an absolute or `.`-relative path. */
export function parseCopyEndpoint(arg: string): CopyEndpoint {
  if (arg.startsWith('/')) return {path: arg}
  const colon = arg.indexOf(':')
  if (colon === -1 || arg.startsWith('.')) return {path: arg}
  return {container: arg.slice(0, colon), path: arg.slice(colon + 1)}
}

export interface CopyOptions {
  archive: boolean
  follow: boolean
  stdin: Readable
  stdout: Writable
}

export async function copy(ctx: Context, src: CopyEndpoint, dest: CopyEndpoint, opts: CopyOptions): Promise<void> {
  if (src.container !== undefined && dest.container !== undefined) throw new UsageError('copying between containers is not supported')
  if (src.container === undefined && dest.container === undefined) throw new UsageError('must specify at least one container source')
  if (src.container !== undefined) {
    if (!src.path) throw new UsageError('filepath can not be empty')
    const rec = await findContainer(ctx, src.container)
    await copyFromContainer(ctx, rec, src.path, dest.path, {follow: opts.follow, stdout: opts.stdout})
    return
  }
  const d = dest as {container: string; path: string}
  if (!d.path) throw new UsageError('filepath can not be empty')
  const rec = await findContainer(ctx, d.container)
  await copyToContainer(ctx, rec, src.path, d.path, {archive: opts.archive, follow: opts.follow, stdin: opts.stdin})
}
