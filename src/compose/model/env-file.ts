/**
 * Environment files as compose reads them (`.env`, --env-file, a service's env_file): dotenv's
 * syntax (comments, `export `, single, double and back quotes, multi-line values), then
 * compose's interpolation of unquoted and double-quoted values with the variables defined above
 * and the lookup given (single-quoted values stay literal).
 */
import {parse} from 'dotenv'
import {readFile} from 'node:fs/promises'
import {ComposeFileError} from '../../errors.js'
import {interpolateString, TemplateProblem, type Lookup} from './interpolate.js'

/** Reads and interpolates one file; `undefined` when it does not exist. `raw` (env_file `format: raw`): KEY=VALUE lines taken as they are. */
export async function readEnvFile(path: string, lookup: Lookup, shown = path, raw = false): Promise<Record<string, string> | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    if ((err as NodeJS.ErrnoException).code === 'EISDIR') throw new ComposeFileError(shown, [], 'is a directory, not an environment file')
    throw err
  }
  return raw ? parseRawEnvText(text) : parseEnvText(text, lookup, shown)
}

/** `format: raw` (and label files): every `KEY=VALUE` line as it is, no quotes removed, no interpolation; `#` lines skipped. */
export function parseRawEnvText(text: string): Record<string, string> {
  const out: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    const eq = line.indexOf('=')
    if (eq > 0 && !line.trimStart().startsWith('#')) out[line.slice(0, eq)] = line.slice(eq + 1)
  }
  return out
}

export function parseEnvText(text: string, lookup: Lookup, shown: string): Record<string, string> {
  const parsed = parse(text)
  const literal = singleQuotedKeys(text)
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(parsed)) {
    if (literal.has(key)) {
      out[key] = value
      continue
    }
    try {
      out[key] = interpolateString(value, {lookup: (name) => (name in out ? out[name] : lookup(name))})
    } catch (err) {
      if (err instanceof TemplateProblem) throw new ComposeFileError(shown, [key], err.message)
      throw err
    }
  }
  return out
}

/** The keys whose (last) definition is single-quoted: compose keeps those values as written. */
function singleQuotedKeys(text: string): Set<string> {
  const keys = new Set<string>()
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([\w.-]+)\s*[=:]\s*(['"`]?)/.exec(line)
    if (!m) continue
    if (m[2] === "'") keys.add(m[1]!)
    else keys.delete(m[1]!)
  }
  return keys
}
