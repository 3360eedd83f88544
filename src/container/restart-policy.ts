import {UsageError} from '../errors.js'
import type {RestartState} from '../runtime/restart-file.js'

export type {RestartState} from '../runtime/restart-file.js'

/** docker's HostConfig.RestartPolicy. */
export interface RestartPolicy {
  Name: 'no' | 'on-failure' | 'always' | 'unless-stopped'
  MaximumRetryCount: number
}

export const NO_RESTART: RestartPolicy = {Name: 'no', MaximumRetryCount: 0}

/** `--restart no|on-failure[:MAX]|always|unless-stopped`, docker's syntax and rules. */
export function parseRestartPolicy(value: string | undefined): RestartPolicy {
  if (value === undefined || value === '' || value === 'no') return NO_RESTART
  const [name, count, ...rest] = value.split(':')
  if (rest.length > 0) throw new UsageError(`invalid restart policy format: ${value}`)
  switch (name) {
    case 'always':
    case 'unless-stopped':
    case 'no':
      if (count !== undefined) throw new UsageError(`invalid restart policy: maximum retry count can only be used with 'on-failure'`)
      return {Name: name, MaximumRetryCount: 0}
    case 'on-failure': {
      if (count === undefined) return {Name: 'on-failure', MaximumRetryCount: 0}
      if (!/^-?\d+$/.test(count)) throw new UsageError(`invalid restart policy format: maximum retry count must be an integer: ${count}`)
      const n = Number(count)
      if (n < 0) throw new UsageError('invalid restart policy: maximum retry count cannot be negative')
      if (n > 1_000_000_000) throw new UsageError(`invalid restart policy: maximum retry count too large: ${count}`)
      return {Name: 'on-failure', MaximumRetryCount: n}
    }
    default:
      throw new UsageError(`invalid restart policy: unknown policy '${name}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'`)
  }
}

/** The shim's `--restart` value (the shim does not tell always from unless-stopped), or undefined for `no`. */
export function shimRestartArg(p: RestartPolicy | undefined): string | undefined {
  if (!p || p.Name === 'no') return undefined
  if (p.Name === 'on-failure') return p.MaximumRetryCount > 0 ? `on-failure:${p.MaximumRetryCount}` : 'on-failure'
  return 'always'
}

/** Whether `start --all-restartable` starts this container (not running; unless-stopped: not stopped by the user). */
export function isRestartable(p: RestartPolicy | undefined, state: RestartState | undefined): boolean {
  if (p?.Name === 'always') return true
  if (p?.Name === 'unless-stopped') return !state?.stoppedByUser
  return false
}
