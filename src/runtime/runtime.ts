import type {Context} from '../context.js'
import {UsageError} from '../errors.js'
import {requireBinary} from './binaries.js'

/** The OCI runtime (runc by default, crun selectable) and its per-user state root. */
export interface OciRuntime {
  name: string
  path: string
  /** Global arguments placed before every subcommand. */
  globalArgs: string[]
  /** The runtime's state root (`--root`): its own files, read only through the runtime. */
  root: string
}

export function resolveRuntime(ctx: Context, override?: string): OciRuntime {
  const name = override ?? ctx.config.runtime.name
  if (name !== 'runc' && name !== 'crun' && !name.includes('/')) {
    throw new UsageError(`unknown runtime "${name}": use runc, crun or a path`)
  }
  const path =
    !override && ctx.config.runtime.path
      ? ctx.config.runtime.path
      : requireBinary(name, `install it (apt-get install ${name.includes('/') ? 'runc' : name})`)
  return {name, path, globalArgs: ['--root', ctx.run.runc], root: ctx.run.runc}
}
