import type {Context} from '../context.js'
import {type ContainerRecord, listContainers} from './record.js'
import {isRestartable} from './restart-policy.js'
import {startContainer} from './start.js'
import {containerTask} from './task.js'

/**
 * `start --all-restartable`, after a reboot or a logout: starts every `always` container, and
 * every `unless-stopped` one the user did not stop, that is not running, oldest first. Reports
 * each start (or its failure) and goes on with the next.
 */
export async function startAllRestartable(ctx: Context, report: (rec: ContainerRecord, err?: unknown) => void): Promise<void> {
  for (const rec of (await listContainers(ctx)).reverse()) {
    const task = containerTask(ctx, rec)
    const state = task.state()
    if (state.status === 'running' || state.status === 'restarting' || !isRestartable(rec.restartPolicy, state.restart)) continue
    try {
      // what a killed shim left (a logout without a reboot keeps the runtime's state), as rm does
      await task.delete()
      await startContainer(ctx, rec, {attach: false})
      report(rec)
    } catch (err) {
      report(rec, err)
    }
  }
}
