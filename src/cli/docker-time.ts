/**
 * docker's time arguments (`--since`, `--until`, `until=` filters; docker/api/types/time
 * GetTimestamp): a Go duration back from now (`10m`, `1h30m`, `1.5h`), a Unix timestamp in
 * seconds with an optional fraction (`1700000000.5`), or an RFC 3339 date or date-time (local time
 * when no zone is given). Returns milliseconds since the epoch (a fraction keeps sub-ms parts).
 */
import {UsageError} from '../errors.js'

const UNIT_MS: Record<string, number> = {ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000}

/** Go's time.ParseDuration, in milliseconds; undefined when `s` is not a duration. */
export function parseGoDuration(s: string): number | undefined {
  const m = /^([-+]?)((?:\d+(?:\.\d*)?|\.\d+)(?:ns|us|µs|ms|s|m|h))+$/.exec(s)
  if (!m && s !== '0') return undefined
  if (s === '0') return 0
  let total = 0
  for (const part of s.replace(/^[-+]/, '').matchAll(/(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)/g)) total += Number(part[1]) * UNIT_MS[part[2]!]!
  return s.startsWith('-') ? -total : total
}

export function parseDockerTime(value: string, nowMs = Date.now(), what = '--since'): number {
  const v = value.trim()
  // "0" is the epoch, not a zero duration (as in docker)
  const d = v === '0' ? undefined : parseGoDuration(v)
  if (d !== undefined) return nowMs - d
  if (/^\d+(\.\d+)?$/.test(v)) {
    const [sec, frac = ''] = v.split('.')
    return Number(sec) * 1000 + Number(`0.${frac || '0'}`) * 1000
  }
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/i.exec(v)
  if (m) {
    const [, y, mo, da, h = '0', mi = '0', se = '0', frac = '', zone] = m
    const fracMs = frac ? Number(`0${frac}`) * 1000 : 0
    let ms: number
    if (zone) {
      ms = Date.UTC(+y!, +mo! - 1, +da!, +h, +mi, +se)
      if (zone.toUpperCase() !== 'Z') {
        const z = /^([+-])(\d{2}):?(\d{2})$/.exec(zone)!
        ms -= (z[1] === '-' ? -1 : 1) * (Number(z[2]) * 60 + Number(z[3])) * 60_000
      }
    } else ms = new Date(+y!, +mo! - 1, +da!, +h, +mi, +se).getTime()
    if (!Number.isNaN(ms)) return ms + fracMs
  }
  throw new UsageError(`invalid value for ${what}: ${JSON.stringify(value)} (a duration such as 10m, a Unix timestamp or an RFC 3339 date)`)
}
