/**
 * depends_on conditions and `up --wait`: a dependency's containers healthy (its healthcheck, as
 * the shim records it), or exited with 0. Polled through the engine's listing; an unhealthy
 * dependency or one that exits fails at once, as in docker compose.
 */
import {setTimeout as sleep} from 'node:timers/promises'
import type {Context} from '../../context.js'
import * as containers from '../../engine/containers.js'
import {ComposeRunError} from '../../errors.js'

const POLL_MS = 250

async function summary(ctx: Context, id: string): Promise<containers.ContainerSummary | undefined> {
  return (await containers.list(ctx, {all: true, filters: [`id=${id}`]}))[0]
}

/** Until the container is healthy; an error when it turns unhealthy, exits, or has no healthcheck. */
export async function waitHealthy(ctx: Context, id: string, name: string): Promise<void> {
  for (;;) {
    const s = await summary(ctx, id)
    if (!s) throw new ComposeRunError(`dependency failed to start: container ${name} was removed`)
    if (!s.record.healthcheck || s.record.healthcheck.Test[0] === 'NONE' || s.record.healthcheck.Test.length === 0) {
      throw new ComposeRunError(`dependency failed to start: container ${name} has no healthcheck configured`)
    }
    const health = s.status.health?.Status
    if (s.status.running && health === 'healthy') return
    if (health === 'unhealthy') throw new ComposeRunError(`dependency failed to start: container ${name} is unhealthy`)
    if (!s.status.running && s.status.status !== 'created') throw new ComposeRunError(`dependency failed to start: container ${name} exited (${s.status.exit?.exitCode ?? 0})`)
    await sleep(POLL_MS)
  }
}

/** Until the container exits; an error unless with 0. */
export async function waitCompleted(ctx: Context, id: string, name: string, service: string): Promise<void> {
  const code = await containers.wait(ctx, id)
  if (code !== 0) throw new ComposeRunError(`service "${service}" didn't complete successfully: exit ${code}`)
  void name
}

/** `up --wait`: running (and healthy when it has a healthcheck); `exitOk`: an exit with 0 is fine too. */
export async function waitRunning(ctx: Context, id: string, name: string, exitOk: boolean): Promise<void> {
  for (;;) {
    const s = await summary(ctx, id)
    if (!s) throw new ComposeRunError(`container ${name} was removed`)
    const hc = s.record.healthcheck
    const hasCheck = hc !== undefined && hc.Test.length > 0 && hc.Test[0] !== 'NONE'
    if (!s.status.running && s.status.status !== 'created') {
      const code = s.status.exit?.exitCode ?? 0
      if (exitOk && code === 0) return
      throw new ComposeRunError(`container ${name} exited (${code})`)
    }
    if (s.status.running && !hasCheck) return
    if (s.status.health?.Status === 'healthy') return
    if (s.status.health?.Status === 'unhealthy') throw new ComposeRunError(`container ${name} is unhealthy`)
    await sleep(POLL_MS)
  }
}
