import type {Context} from '../context.js'
import {ConflictError} from '../errors.js'
import type {ExecIO} from '../runtime/task.js'
import {processGroups} from '../spec/generate.js'
import {readRootfsFile, resolveUser} from '../spec/user.js'
import {type ContainerRecord, containerPaths} from './record.js'
import {lowerDirs} from '../store/layers.js'
import {containerStatus} from './status.js'
import {containerTask} from './task.js'

export interface ExecOptions {
  args: string[]
  tty: boolean
  interactive: boolean
  detach: boolean
  /** KEY=VALUE, or KEY to take the value from `hostEnv` (docker's -e KEY). */
  env: string[]
  workdir?: string
  user?: string
  /** The front end's environment, for -e KEY. */
  hostEnv: NodeJS.ProcessEnv
  io: ExecIO
}

/**
 * docker exec: the user and environment resolved against the container (its /etc/passwd, the
 * caller's environment), then the Task runs the process. Returns the process's exit code
 * (128+N when killed by signal N).
 */
export async function execInContainer(ctx: Context, rec: ContainerRecord, opts: ExecOptions): Promise<number> {
  const status = containerStatus(ctx, rec)
  if (!status.running) throw new ConflictError(`container ${rec.name} is not running`)
  if (status.restarting) throw new ConflictError(`container ${rec.name} is restarting, wait until the container is running`)
  const env: string[] = []
  for (const e of opts.env) {
    const [key] = e.split('=')
    if (e.includes('=')) env.push(e)
    else if (opts.hostEnv[key!] !== undefined) env.push(`${key}=${opts.hostEnv[key!]}`)
  }
  let user
  if (opts.user) {
    const layers = [containerPaths(ctx, rec.id).upper, ...(await lowerDirs(ctx.store, rec.diffIds))]
    user = resolveUser(opts.user, {passwd: readRootfsFile(layers, '/etc/passwd'), group: readRootfsFile(layers, '/etc/group')})
  }
  return containerTask(ctx, rec).exec({
    args: opts.args,
    tty: opts.tty,
    detach: opts.detach,
    env,
    cwd: opts.workdir,
    user: user ? {uid: user.uid, gid: user.gid, additionalGids: processGroups(user)} : undefined,
    io: opts.interactive ? opts.io : {...opts.io, stdin: 'ignore'},
  })
}
