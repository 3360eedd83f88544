import {readFileSync} from 'node:fs'
import {constants} from 'node:os'

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

/** The process exists, and is the same one (same start time) when a start time is given. */
export function isAlive(pid: number | undefined, startTime: string | undefined): boolean {
  if (!pid) return false
  const now = processStartTime(pid)
  return now !== undefined && (startTime === undefined || now === startTime)
}

/** docker's exit code for a process: its status, or 128+N when killed by signal N. */
export function exitCodeOf(code: number | null, signal: NodeJS.Signals | number | null): number {
  if (code !== null) return code
  if (signal === null) return 255
  const n = typeof signal === 'number' ? signal : constants.signals[signal]
  return n === undefined ? 255 : 128 + n
}
