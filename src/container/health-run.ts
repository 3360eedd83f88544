import type {Context} from '../context.js'
import {ConflictError, NoHealthcheckError} from '../errors.js'
import {healthRun} from './health.js'
import type {ContainerRecord} from './record.js'
import {containerStatus} from './status.js'
import {containerTask} from './task.js'

/**
 * podman healthcheck run: the shim runs one check now and records it like a scheduled one
 * (HEALTHCHECK frame). Returns the check's exit code and the status after it.
 */
export async function runHealthcheck(ctx: Context, rec: ContainerRecord): Promise<{exitCode: number; status: string}> {
  if (!healthRun(rec.healthcheck)) throw new NoHealthcheckError(`container ${rec.name} has no defined healthcheck`)
  if (!containerStatus(ctx, rec).running) throw new ConflictError(`container ${rec.name} is not running`)
  const client = await containerTask(ctx, rec).attach()
  try {
    return await client.healthcheck()
  } finally {
    client.close()
  }
}
