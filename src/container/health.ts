/**
 * Healthchecks, docker's way: the container's Config.Healthcheck (from --health-* flags merged over
 * the image's HEALTHCHECK), the argv and timers the shim runs it with (shim/shim-health.c), and the
 * State.Health the shim records. The shim runs the checks; this module only decides and reads.
 */
import {readFileSync} from 'node:fs'
import {join} from 'node:path'
import {Duration} from '@icholy/duration'
import {UsageError} from '../errors.js'

/** docker's container.HealthConfig (durations in nanoseconds; 0: inherit or the default). */
export interface HealthConfig {
  /** [] inherit, ["NONE"] disabled, ["CMD", args...], ["CMD-SHELL", command]. */
  Test: string[]
  Interval?: number
  Timeout?: number
  StartPeriod?: number
  StartInterval?: number
  Retries?: number
}

/** The --health-* flags as given (durations in Go syntax: 30s, 1m30s, 500ms). */
export interface HealthFlags {
  cmd?: string
  interval?: string
  timeout?: string
  startPeriod?: string
  startInterval?: string
  retries?: number
  none?: boolean
}

/** docker's State.Health. */
export interface HealthState {
  Status: 'starting' | 'healthy' | 'unhealthy'
  FailingStreak: number
  Log: Array<{Start: string; End: string; ExitCode: number; Output: string}>
}

/** docker's defaults (daemon/health.go). */
export const HEALTH_DEFAULTS = {intervalMs: 30_000, timeoutMs: 30_000, startPeriodMs: 0, startIntervalMs: 5_000, retries: 3} as const

const NS_PER_MS = 1_000_000

/** A Go duration (`1m30s`, `500ms`) in nanoseconds; at least 1 ms unless `zeroOk` and zero. */
export function parseGoDuration(flag: string, value: string): number {
  let ms: number
  try {
    if (!/^[0-9.]+(ns|us|µs|ms|s|m|h)([0-9.]+(ns|us|µs|ms|s|m|h))*$/.test(value) && value !== '0') throw new Error('bad')
    ms = new Duration(value).milliseconds()
  } catch {
    throw new UsageError(`invalid argument "${value}" for "--${flag}" flag: time: invalid duration "${value}"`)
  }
  if (ms < 1 && /[1-9]/.test(value)) throw new UsageError(`--${flag} cannot be less than 1ms`)
  return Math.round(ms * NS_PER_MS)
}

/** The user's healthcheck from flags (undefined: none given, the image's applies as it is). */
export function healthFromFlags(f: HealthFlags): HealthConfig | undefined {
  const given = f.cmd !== undefined || f.interval !== undefined || f.timeout !== undefined || f.startPeriod !== undefined || f.startInterval !== undefined || f.retries !== undefined
  if (f.none) {
    if (given) throw new UsageError('--no-healthcheck conflicts with --health-* options')
    return {Test: ['NONE']}
  }
  if (!given) return undefined
  if (f.retries !== undefined && f.retries < 0) throw new UsageError('--health-retries cannot be negative')
  const hc: HealthConfig = {Test: f.cmd !== undefined && f.cmd !== '' ? ['CMD-SHELL', f.cmd] : []}
  if (f.interval !== undefined) hc.Interval = parseGoDuration('health-interval', f.interval)
  if (f.timeout !== undefined) hc.Timeout = parseGoDuration('health-timeout', f.timeout)
  if (f.startPeriod !== undefined) hc.StartPeriod = parseGoDuration('health-start-period', f.startPeriod)
  if (f.startInterval !== undefined) hc.StartInterval = parseGoDuration('health-start-interval', f.startInterval)
  if (f.retries !== undefined) hc.Retries = f.retries
  return hc
}

/** docker's merge (daemon/commit.go merge): the user's fields win, unset ones come from the image. */
export function mergeHealth(user: HealthConfig | undefined, image: HealthConfig | undefined): HealthConfig | undefined {
  if (!user) return image && image.Test?.length ? image : undefined
  if (!image) return user
  return {
    Test: user.Test.length > 0 ? user.Test : (image.Test ?? []),
    ...pick('Interval', user, image),
    ...pick('Timeout', user, image),
    ...pick('StartPeriod', user, image),
    ...pick('StartInterval', user, image),
    ...pick('Retries', user, image),
  }
}

function pick<K extends Exclude<keyof HealthConfig, 'Test'>>(k: K, user: HealthConfig, image: HealthConfig): Partial<HealthConfig> {
  const v = user[k] || image[k]
  return v ? {[k]: v} : {}
}

/** What the shim is given: the check's argv and its timers in milliseconds. */
export interface HealthRun {
  args: string[]
  intervalMs: number
  timeoutMs: number
  startPeriodMs: number
  startIntervalMs: number
  retries: number
}

/** The check the shim runs, or undefined when the healthcheck is disabled (NONE) or absent. */
export function healthRun(hc: HealthConfig | undefined): HealthRun | undefined {
  if (!hc || hc.Test.length === 0 || hc.Test[0] === 'NONE') return undefined
  const [kind, ...rest] = hc.Test
  let args: string[]
  if (kind === 'CMD') args = rest
  else if (kind === 'CMD-SHELL') args = ['/bin/sh', '-c', rest.join(' ')]
  else throw new UsageError(`unknown healthcheck type ${JSON.stringify(kind)} (use CMD, CMD-SHELL or NONE)`)
  if (args.length === 0 || args[0] === '') throw new UsageError('the healthcheck has no command')
  const ms = (ns: number | undefined, dflt: number) => (ns && ns > 0 ? Math.max(1, Math.round(ns / NS_PER_MS)) : dflt)
  return {
    args,
    intervalMs: ms(hc.Interval, HEALTH_DEFAULTS.intervalMs),
    timeoutMs: ms(hc.Timeout, HEALTH_DEFAULTS.timeoutMs),
    startPeriodMs: ms(hc.StartPeriod, HEALTH_DEFAULTS.startPeriodMs),
    startIntervalMs: ms(hc.StartInterval, HEALTH_DEFAULTS.startIntervalMs),
    retries: hc.Retries && hc.Retries > 0 ? hc.Retries : HEALTH_DEFAULTS.retries,
  }
}

/** Where the shim records State.Health: in the container's directory (kept after it stops). */
export function healthFile(containerDir: string): string {
  return join(containerDir, 'health.json')
}

/** docker's State.Health as the shim last wrote it; undefined without a healthcheck or before the first start. */
export function readHealth(containerDir: string, hc: HealthConfig | undefined): HealthState | undefined {
  if (!healthRun(hc)) return undefined
  try {
    const h = JSON.parse(readFileSync(healthFile(containerDir), 'utf8')) as HealthState
    return {Status: h.Status, FailingStreak: h.FailingStreak ?? 0, Log: h.Log ?? []}
  } catch {
    return undefined
  }
}

/** The suffix `ps` adds to "Up …": " (healthy)", " (unhealthy)", " (health: starting)". */
export function healthSuffix(h: HealthState | undefined): string {
  if (!h) return ''
  return h.Status === 'starting' ? ' (health: starting)' : ` (${h.Status})`
}
