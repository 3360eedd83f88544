import {UsageError} from '../errors.js'

/**
 * `--filter key=value` arguments grouped by key (values of one key are alternatives), checked
 * against the keys a command accepts: docker's message for an unknown key.
 */
export function parseFilterArgs(args: string[] | undefined, accepted: readonly string[]): Record<string, string[]> {
  const out: Record<string, string[]> = {}
  for (const arg of args ?? []) {
    const eq = arg.indexOf('=')
    if (eq <= 0) throw new UsageError(`bad format of filter (expected name=value): ${arg}`)
    const key = arg.slice(0, eq).trim().toLowerCase()
    if (!accepted.includes(key)) throw new UsageError(`invalid filter '${key}'`)
    ;(out[key] ??= []).push(arg.slice(eq + 1))
  }
  return out
}
