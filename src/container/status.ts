import {readFileSync} from 'node:fs'
import type {Context} from '../context.js'
import {type ContainerRecord, type ExitInfo, type PortMapping, readExit, readState} from './record.js'

export type Status = 'created' | 'running' | 'exited'

export interface ContainerStatus {
  status: Status
  running: boolean
  shimPid?: number
  containerPid?: number
  startedAt?: string
  exit?: ExitInfo
}

/**
 * Start time of a process in clock ticks since boot, or undefined when it does not exist or is
 * a zombie (an exited shim whose new parent does not reap it is dead to us).
 */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // Fields after the command name (which may hold spaces and parentheses).
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    if (rest[0] === 'Z' || rest[0] === 'X') return undefined
    return rest[19]
  } catch {
    return undefined
  }
}

export function isAlive(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid) return false
  const now = processStartTime(pid)
  return now !== undefined && (startTime === undefined || now === startTime)
}

export function containerStatus(ctx: Context, rec: ContainerRecord): ContainerStatus {
  const state = readState(ctx, rec.id)
  const exit = readExit(ctx, rec.id)
  const base = {shimPid: state.shimPid, containerPid: state.containerPid, startedAt: state.startedAt}
  // `start` removes the previous exit file before it starts the shim, so an exit file always
  // belongs to the latest run.
  if (exit) return {...base, status: 'exited', running: false, exit}
  if (state.startedAt && isAlive(state.shimPid, state.shimStartTime)) return {...base, status: 'running', running: true}
  if (state.startedAt) {
    // The shim is gone without an exit file: it was killed. Reported like docker's dead containers.
    return {...base, status: 'exited', running: false, exit: {exitCode: 255, signal: null, finishedAt: state.startedAt}}
  }
  return {...base, status: 'created', running: false}
}

/** Published ports: the host ports actually bound while it runs, else what was asked for. */
export function publishedPorts(ctx: Context, rec: ContainerRecord, status: ContainerStatus = containerStatus(ctx, rec)): PortMapping[] {
  return (status.running ? readState(ctx, rec.id).ports : undefined) ?? rec.ports
}
