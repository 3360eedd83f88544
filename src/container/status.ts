import type {Context} from '../context.js'
import {dockerStatus} from '../runtime/status.js'
import {type HealthState, readHealth} from './health.js'
import {type ContainerRecord, containerPaths, type ExitInfo, type PortMapping, readState} from './record.js'
import {containerTask} from './task.js'

export {isAlive, processStartTime} from '../runtime/process.js'

export type Status = ReturnType<typeof dockerStatus>

export interface ContainerStatus {
  status: Status
  /** As docker: true while it runs and while it waits to restart (the shim lives). */
  running: boolean
  /** The process exited and the shim waits its back-off before starting it again. */
  restarting: boolean
  /** Restarts done by the shim since the container was started (docker's RestartCount). */
  restartCount: number
  /** While restarting: the exit that caused it. */
  lastExit?: ExitInfo
  shimPid?: number
  containerPid?: number
  startedAt?: string
  exit?: ExitInfo
  /** docker's State.Health (containers with a healthcheck that have been started). */
  health?: HealthState
}

/** docker's view of the container's Task state. */
export function containerStatus(ctx: Context, rec: ContainerRecord): ContainerStatus {
  const s = containerTask(ctx, rec).state()
  const status = dockerStatus(s.status)
  const health = rec.healthcheck ? readHealth(containerPaths(ctx, rec.id).dir, rec.healthcheck) : undefined
  // created, but its last start failed: docker keeps that exit code (wait, inspect)
  const failed = status === 'created' ? readState(ctx, rec.id).startFailure : undefined
  const exit = s.exit ?? (failed ? {exitCode: failed.exitCode, signal: null, finishedAt: failed.finishedAt} : undefined)
  const restarting = status === 'restarting'
  const r = s.restart
  return {
    status,
    running: status === 'running' || restarting,
    restarting,
    restartCount: r?.restartCount ?? 0,
    lastExit: restarting && r?.exitCode !== undefined ? {exitCode: r.exitCode, signal: null, finishedAt: r.finishedAt ?? ''} : undefined,
    shimPid: s.shimPid,
    containerPid: restarting ? undefined : s.pid,
    startedAt: s.startedAt,
    exit,
    ...(health ? {health} : {}),
  }
}

/** Published ports: the host ports actually bound while it runs, else what was asked for. */
export function publishedPorts(ctx: Context, rec: ContainerRecord, status: ContainerStatus = containerStatus(ctx, rec)): PortMapping[] {
  return (status.running ? readState(ctx, rec.id).ports : undefined) ?? rec.ports
}
