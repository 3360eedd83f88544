import {stat} from 'node:fs/promises'
import {isAlive} from './lock.js'

const STALE_TMP_MS = 60 * 60 * 1000

/**
 * A temporary file or directory (`.tmp-PID-...`) left by a killed process: its owner is gone, or
 * it is older than an hour (pid reused, or a name without a pid from an older version).
 */
export async function isStaleTemp(path: string): Promise<boolean> {
  const m = /^\.tmp-(?:marker-)?(\d+)-/.exec(path.slice(path.lastIndexOf('/') + 1))
  if (m && Number(m[1]) !== process.pid && !isAlive(Number(m[1]))) return true
  try {
    return Date.now() - (await stat(path)).mtimeMs > STALE_TMP_MS
  } catch {
    return false
  }
}
