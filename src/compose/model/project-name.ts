/**
 * Project names as docker compose takes them: -p, COMPOSE_PROJECT_NAME and `name:` must already
 * be valid (lowercase letters, digits, `_` and `-`, starting with a letter or digit); the
 * directory name is normalized to that form (lowercased, other characters dropped, leading
 * `_`/`-` dropped).
 */
import {UsageError} from '../../errors.js'

const VALID = /^[a-z0-9][a-z0-9_-]*$/

/** docker compose's NormalizeProjectName. */
export function normalizeProjectName(name: string): string {
  return name
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, '')
    .replace(/^[_-]+/, '')
}

export function isValidProjectName(name: string): boolean {
  return VALID.test(name)
}

/** Throws docker compose's error for an explicit name that is not valid. */
export function checkProjectName(name: string, source: string): string {
  if (name === '') throw new UsageError(`project name must not be empty${source ? ` (${source})` : ''}`)
  if (!isValidProjectName(name)) throw new UsageError(`invalid project name "${name}"${source ? ` (${source})` : ''}: must consist only of lowercase alphanumeric characters, hyphens, and underscores as well as start with a letter or number`)
  return name
}
