import {UsageError} from '../errors.js'
import type {ImageConfig} from '../oci/types.js'

type RunConfig = NonNullable<ImageConfig['config']>

const SUPPORTED = ['CMD', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'LABEL', 'USER', 'WORKDIR', 'VOLUME', 'STOPSIGNAL'] as const

/** `["a","b"]` (exec form) or a shell command (`/bin/sh -c ...`). */
function commandForm(rest: string, instr: string): string[] {
  if (rest.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(rest)
      if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed
    } catch {
      // not JSON: shell form, as docker does
    }
  }
  if (rest === '') throw new UsageError(`--change ${JSON.stringify(instr)}: needs an argument`)
  return ['/bin/sh', '-c', rest]
}

function unquote(s: string): string {
  return (s.startsWith('"') && s.endsWith('"')) || (s.startsWith("'") && s.endsWith("'")) ? s.slice(1, -1) : s
}

/** Splits `k=v k2="v 2"` into pairs (quotes keep spaces). */
function keyValues(rest: string, instr: string): Array<[string, string]> {
  const words = rest.match(/(?:[^\s"']+|"[^"]*"|'[^']*')+/g) ?? []
  if (words.length === 2 && !words[0]!.includes('=')) return [[words[0]!, unquote(words[1]!)]]
  if (words.length === 0) throw new UsageError(`--change ${JSON.stringify(instr)}: needs KEY=VALUE`)
  return words.map((w) => {
    const eq = w.indexOf('=')
    if (eq <= 0) throw new UsageError(`--change ${JSON.stringify(instr)}: ${JSON.stringify(w)} is not KEY=VALUE`)
    return [unquote(w.slice(0, eq)), unquote(w.slice(eq + 1))]
  })
}

/**
 * Applies Dockerfile instructions given with `commit -c` / `import -c` to an image's run
 * configuration (a new object; the input is left as it was). Only the instructions docker allows
 * there: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL.
 */
export function applyChanges(config: RunConfig, changes: string[]): RunConfig {
  const out: RunConfig = structuredClone(config)
  for (const change of changes) {
    const m = /^\s*(\w+)\s*(.*?)\s*$/s.exec(change)
    const instr = m?.[1]?.toUpperCase() ?? ''
    const rest = m?.[2] ?? ''
    if (!(SUPPORTED as readonly string[]).includes(instr)) {
      throw new UsageError(`--change ${JSON.stringify(change)}: unsupported instruction (allowed: ${SUPPORTED.join(', ')})`)
    }
    switch (instr) {
      case 'CMD':
        out.Cmd = commandForm(rest, change)
        break
      case 'ENTRYPOINT':
        out.Entrypoint = commandForm(rest, change)
        break
      case 'ENV': {
        const env = [...(out.Env ?? [])]
        for (const [k, v] of keyValues(rest, change)) {
          const i = env.findIndex((e) => e.split('=')[0] === k)
          if (i >= 0) env[i] = `${k}=${v}`
          else env.push(`${k}=${v}`)
        }
        out.Env = env
        break
      }
      case 'LABEL':
        out.Labels = {...(out.Labels ?? {}), ...Object.fromEntries(keyValues(rest, change))}
        break
      case 'EXPOSE':
        for (const p of rest.split(/\s+/).filter(Boolean)) {
          if (!/^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/.test(p)) throw new UsageError(`--change ${JSON.stringify(change)}: invalid port ${JSON.stringify(p)}`)
          ;(out.ExposedPorts ??= {})[p.includes('/') ? p : `${p}/tcp`] = {}
        }
        break
      case 'VOLUME':
        for (const v of rest.startsWith('[') ? commandForm(rest, change) : rest.split(/\s+/).filter(Boolean)) (out.Volumes ??= {})[v] = {}
        break
      case 'USER':
        out.User = rest
        break
      case 'WORKDIR':
        out.WorkingDir = rest
        break
      case 'STOPSIGNAL':
        out.StopSignal = rest
        break
    }
  }
  return out
}
