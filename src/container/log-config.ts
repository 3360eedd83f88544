import {LOG_FILES_MAX} from '../config/schema.js'
import {formatByteSize, parseByteSize} from '../config/sizes.js'
import {UsageError} from '../errors.js'

/**
 * Log rotation of a container's k8s-file log, done by its shim: once the log would grow past
 * `maxSize` bytes it becomes ctr.log.1 (ctr.log.1 becomes ctr.log.2, ...), keeping `maxFiles`
 * files in all (docker's json-file rules: with 1 the log is truncated). No `maxSize`: no limit.
 */
export interface LogConfig {
  maxSize?: number
  maxFiles?: number
}

function parseMaxFiles(spec: string): number | undefined {
  if (!/^\d+$/.test(spec.trim())) return undefined
  const n = Number(spec)
  return n >= 1 && n <= LOG_FILES_MAX ? n : undefined
}

/**
 * The log configuration of a new container: `--log-opt KEY=VALUE` (max-size, max-file) over the
 * configuration's defaults (`logs.maxSize`, `logs.maxFiles`). The file count only matters with a
 * size limit: `max-file` on the command line without any size is refused.
 */
export function resolveLogConfig(logOpts: string[], defaults: {maxSize?: number | string; maxFiles?: number}): LogConfig {
  let maxSize = typeof defaults.maxSize === 'string' ? parseByteSize(defaults.maxSize) : defaults.maxSize
  let maxFiles = defaults.maxFiles
  let filesGiven = false
  for (const opt of logOpts) {
    const eq = opt.indexOf('=')
    const key = eq < 0 ? opt : opt.slice(0, eq)
    const value = eq < 0 ? '' : opt.slice(eq + 1)
    if (eq < 0 || value === '') throw new UsageError(`invalid --log-opt "${opt}": expected KEY=VALUE (max-size=10m, max-file=3)`)
    if (key === 'max-size') {
      maxSize = parseByteSize(value)
      if (maxSize === undefined) throw new UsageError(`invalid --log-opt max-size "${value}": use a size with an optional unit k, m, g (e.g. 10m)`)
    } else if (key === 'max-file') {
      maxFiles = parseMaxFiles(value)
      if (maxFiles === undefined) throw new UsageError(`invalid --log-opt max-file "${value}": use a whole number from 1 to ${LOG_FILES_MAX}`)
      filesGiven = true
    } else {
      throw new UsageError(`unknown log opt '${key}' for k8s-file log driver (known: max-size, max-file)`)
    }
  }
  if (maxSize === undefined) {
    if (filesGiven) throw new UsageError('--log-opt max-file needs a size limit: add --log-opt max-size=SIZE (or set logs.maxSize)')
    return {}
  }
  return maxFiles === undefined ? {maxSize} : {maxSize, maxFiles}
}

/** docker inspect's HostConfig.LogConfig for a container's log configuration. */
export function inspectLogConfig(log: LogConfig | undefined): {Type: 'k8s-file'; Config: Record<string, string>} {
  const config: Record<string, string> = {}
  if (log?.maxSize !== undefined) {
    config['max-size'] = formatByteSize(log.maxSize)
    config['max-file'] = String(log.maxFiles ?? 1)
  }
  return {Type: 'k8s-file', Config: config}
}

