import type {Context} from '../context.js'
import {resolveRuntime} from '../runtime/runtime.js'
import {ShimTask, type Task} from '../runtime/task.js'
import {type ContainerRecord, containerPaths} from './record.js'

/** The runtime Task of a container: its files are where the container's layout puts them. */
export function containerTask(ctx: Context, rec: ContainerRecord): Task {
  const p = containerPaths(ctx, rec.id)
  return new ShimTask(rec.id, () => resolveRuntime(ctx, rec.runtime), {
    bundle: p.bundle,
    rootfs: p.merged,
    stateFile: p.state,
    exitFile: p.exit,
    logFile: p.log,
    diagnosticsFile: p.shimLog,
    runDir: p.runDir,
    attachSocket: p.attachSocket,
    restartFile: p.restart,
  }, {shimNetns: rec.shimNetns === true})
}
