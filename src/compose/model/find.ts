/**
 * Which compose files a command reads, as docker compose decides: -f (in order; relative to the
 * working directory), else COMPOSE_FILE (split on COMPOSE_PATH_SEPARATOR, default ":"), else the
 * first directory from the working directory upward holding compose.yaml, compose.yml,
 * docker-compose.yaml or docker-compose.yml, plus its override file when there is one.
 */
import {statSync} from 'node:fs'
import {dirname, join, resolve} from 'node:path'
import {NotFoundError} from '../../errors.js'

export const DEFAULT_FILE_NAMES = ['compose.yaml', 'compose.yml', 'docker-compose.yaml', 'docker-compose.yml'] as const
export const DEFAULT_OVERRIDE_FILE_NAMES = ['compose.override.yaml', 'compose.override.yml', 'docker-compose.override.yaml', 'docker-compose.override.yml'] as const

/** "-": the standard input. */
export const STDIN_FILE = '-'

export interface FoundFiles {
  /** Absolute paths (or "-"), in merge order. */
  files: string[]
  /** Names found beside the chosen one that were not used (docker compose warns about them). */
  ignored: string[]
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile()
  } catch {
    return false
  }
}

export function findComposeFiles(opts: {files?: readonly string[]; workingDir: string; env: Record<string, string | undefined>}): FoundFiles {
  const {workingDir, env} = opts
  const explicit = opts.files?.length ? opts.files : env.COMPOSE_FILE ? env.COMPOSE_FILE.split(env.COMPOSE_PATH_SEPARATOR || ':').filter((f) => f !== '') : undefined
  if (explicit?.length) {
    const files = explicit.map((f) => (f === STDIN_FILE ? f : resolve(workingDir, f)))
    for (const f of files) {
      if (f !== STDIN_FILE && !isFile(f)) throw new NotFoundError(`open ${f}: no such file or directory`)
    }
    return {files, ignored: []}
  }
  for (let dir = resolve(workingDir); ; dir = dirname(dir)) {
    const present = DEFAULT_FILE_NAMES.filter((n) => isFile(join(dir, n)))
    if (present.length > 0) {
      const overrides = DEFAULT_OVERRIDE_FILE_NAMES.filter((n) => isFile(join(dir, n)))
      const files = [join(dir, present[0]!)]
      if (overrides.length > 0) files.push(join(dir, overrides[0]!))
      return {files, ignored: [...present.slice(1), ...overrides.slice(1)].map((n) => join(dir, n))}
    }
    if (dirname(dir) === dir) break
  }
  throw new NotFoundError('no configuration file provided: not found')
}
