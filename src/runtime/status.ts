/**
 * The Task status (containerd's names) and the pure mapping to it from what the runtime and the
 * shim record: the runtime's `state` status strings, the shim's exit file and whether the shim
 * still lives.
 */
export type TaskStatus = 'created' | 'running' | 'restarting' | 'stopped' | 'paused' | 'unknown'

/** The shim's exit file: `exitCode` is 128+N when the process was killed by signal N. */
export interface ExitInfo {
  exitCode: number
  signal: number | null
  finishedAt: string
}

/** The runtime's own status string (`runc state`, `crun state`: "creating", "created", "running", "paused", "stopped"). */
export function statusFromRuntime(status: string | undefined): TaskStatus {
  switch (status) {
    case 'creating':
    case 'created':
      return 'created'
    case 'running':
      return 'running'
    case 'paused':
    case 'pausing':
      return 'paused'
    case 'stopped':
      return 'stopped'
    default:
      return 'unknown'
  }
}

/** What is known about a task without asking anyone: its records and whether its shim lives. */
export interface TaskFacts {
  /** When the CLI started the shim (absent: never started). */
  startedAt?: string
  /** The shim's exit file of the latest run. */
  exit?: ExitInfo
  /** The shim process (pid + start time) still exists. */
  shimAlive: boolean
  /** The shim's restart file says the process exited and waits its back-off to run again. */
  restarting?: boolean
}

export interface TaskState {
  status: TaskStatus
  /** The exit of the latest run, when stopped. */
  exit?: ExitInfo
}

/**
 * The Task state from the records:
 * - an exit file always belongs to the latest run (start removes it first): stopped, with it;
 * - started and the shim lives: running (the shim exits with the container);
 * - started, no exit file and the shim is gone: it was killed, so the exit is unknown: stopped
 *   with exit code 255 (docker's "dead" containers report the same);
 * - never started: created.
 */
export function taskState(facts: TaskFacts): TaskState {
  if (facts.exit) return {status: 'stopped', exit: facts.exit}
  if (facts.startedAt && facts.shimAlive) return {status: facts.restarting ? 'restarting' : 'running'}
  if (facts.startedAt) return {status: 'stopped', exit: {exitCode: 255, signal: null, finishedAt: facts.startedAt}}
  return {status: 'created'}
}

/** docker's words for a Task status (`ps`, `inspect`). */
export function dockerStatus(status: TaskStatus): 'created' | 'running' | 'restarting' | 'exited' | 'paused' | 'dead' {
  switch (status) {
    case 'created':
      return 'created'
    case 'running':
      return 'running'
    case 'restarting':
      return 'restarting'
    case 'paused':
      return 'paused'
    case 'stopped':
      return 'exited'
    default:
      return 'dead'
  }
}
