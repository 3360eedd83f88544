import {setTimeout as sleep} from 'node:timers/promises'
import type {Context} from '../context.js'
import {ConflictError, NotFoundError, UsageError} from '../errors.js'
import {healthRun} from './health.js'
import {type ContainerRecord, findContainer} from './record.js'
import {containerStatus} from './status.js'
import {waitForExit} from './lifecycle.js'

/** docker's wait conditions plus podman's health ones. */
export const WAIT_CONDITIONS = ['not-running', 'next-exit', 'removed', 'healthy', 'unhealthy'] as const
export type WaitCondition = (typeof WAIT_CONDITIONS)[number]

export function parseWaitCondition(value: string | undefined): WaitCondition {
  const v = value ?? 'not-running'
  if (!(WAIT_CONDITIONS as readonly string[]).includes(v)) throw new UsageError(`invalid condition "${v}": use one of ${WAIT_CONDITIONS.join(', ')}`)
  return v as WaitCondition
}

const POLL_MS = 200

/**
 * Waits for the condition; resolves with what `wait` prints: the exit code (the exit conditions)
 * or -1 (the health conditions, as podman prints).
 * - not-running: returns at once for a container that is not running;
 * - next-exit: a container that is not running is waited for to start, then to exit;
 * - removed: the exit, then the removal (rm, or --rm);
 * - healthy/unhealthy: that health status; an error when it stops first or has no healthcheck.
 */
export async function waitForCondition(ctx: Context, rec: ContainerRecord, condition: WaitCondition): Promise<number> {
  const exitCode = async () => (await waitForExit(ctx, rec))?.exitCode ?? 0
  switch (condition) {
    case 'not-running':
      return exitCode()
    case 'next-exit': {
      const before = containerStatus(ctx, rec)
      if (!before.running) {
        // until a start: running, or a new run that already exited (another startedAt)
        for (;;) {
          const s = containerStatus(ctx, rec)
          if (s.running || (s.startedAt !== undefined && s.startedAt !== before.startedAt)) break
          await sleep(POLL_MS)
        }
      }
      return exitCode()
    }
    case 'removed': {
      const code = await exitCode()
      for (;;) {
        try {
          await findContainer(ctx, rec.id)
        } catch (err) {
          if (err instanceof NotFoundError) return code
          throw err
        }
        await sleep(POLL_MS)
      }
    }
    case 'healthy':
    case 'unhealthy': {
      if (!healthRun(rec.healthcheck)) throw new ConflictError(`container ${rec.name} has no healthcheck`)
      for (;;) {
        const s = containerStatus(ctx, rec)
        if (s.running && s.health?.Status === condition) return -1
        if (s.status === 'exited' || s.status === 'dead') throw new ConflictError(`container ${rec.name} exited before it was ${condition}`)
        await sleep(POLL_MS)
      }
    }
  }
}
