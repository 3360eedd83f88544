import {readFileSync} from 'node:fs'

/** What the shim writes in the restart file (shim/PROTOCOL.md). */
export interface RestartState {
  restartCount: number
  /** The process exited and the shim waits its back-off before starting it again. */
  restarting: boolean
  /** The exit of the last run before a restart. */
  exitCode?: number
  finishedAt?: string
  /** The user's stop, kill or rm -f ended the policy (unless-stopped is then not restarted by start --all-restartable). */
  stoppedByUser: boolean
  /** The process of the current run (after a restart the recorded one is gone). */
  pid?: number
  /** When the current run started (docker's StartedAt moves at each restart). */
  startedAt?: string
}

export function parseRestartState(raw: unknown): RestartState | undefined {
  if (typeof raw !== 'object' || raw === null) return undefined
  const r = raw as Partial<RestartState>
  if (typeof r.restartCount !== 'number') return undefined
  return {
    restartCount: r.restartCount,
    restarting: r.restarting === true,
    exitCode: typeof r.exitCode === 'number' ? r.exitCode : undefined,
    finishedAt: typeof r.finishedAt === 'string' ? r.finishedAt : undefined,
    stoppedByUser: r.stoppedByUser === true,
    pid: typeof r.pid === 'number' && r.pid > 0 ? r.pid : undefined,
    startedAt: typeof r.startedAt === 'string' ? r.startedAt : undefined,
  }
}

/** The shim's restart file (undefined when there is none: no restart policy, or never started). */
export function readRestartFile(path: string): RestartState | undefined {
  try {
    return parseRestartState(JSON.parse(readFileSync(path, 'utf8')))
  } catch {
    return undefined
  }
}
