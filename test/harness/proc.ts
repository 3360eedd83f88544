/**
 * Looking at processes and mounts through /proc, and waiting for a condition: what the e2e tests
 * use to prove that nothing of a container is left behind.
 */
import {readdirSync, readFileSync} from 'node:fs'

/** Polls `check` every 100 ms until it holds (true) or `timeoutMs` have passed (false). */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 10_000): Promise<boolean> {
  const end = Date.now() + timeoutMs
  while (Date.now() < end) {
    if (await check()) return true
    await new Promise((r) => setTimeout(r, 100))
  }
  return false
}

/** The command line of `pid`, arguments joined by spaces ('' when it is gone). */
export function commandOf(pid: number | string): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ')
  } catch {
    return ''
  }
}

/** Alive and not a zombie (an exited child of an init that does not reap is not running). */
export function running(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z'
  } catch {
    return false
  }
}

/** Processes (visible to this user) whose command line mentions `needle`, as "PID COMMAND"; vitest itself left out. */
export function processesMentioning(needle: string): string[] {
  const out: string[] = []
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    const cmd = commandOf(pid)
    if (cmd.includes(needle) && !cmd.includes('vitest')) out.push(`${pid} ${cmd}`)
  }
  return out
}

/** Lines of this process's mountinfo that mention `text` (a container id, a directory). */
export function mountsMentioning(text: string): string[] {
  return readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .filter((l) => l.includes(text))
}
