import {accessSync, constants} from 'node:fs'
import {delimiter, join} from 'node:path'
import {PrerequisiteError} from '../errors.js'

/** Finds an executable on PATH (plus the sbin directories, where distros put some tools). */
export function which(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if (name.includes('/')) return isExecutable(name) ? name : undefined
  const dirs = [...(env.PATH ?? '').split(delimiter), '/usr/local/sbin', '/usr/sbin', '/sbin', '/usr/libexec/podman']
  for (const dir of dirs) {
    if (!dir) continue
    const candidate = join(dir, name)
    if (isExecutable(candidate)) return candidate
  }
  return undefined
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

export function requireBinary(name: string, hint: string): string {
  const path = which(name)
  if (!path) throw new PrerequisiteError(`${name} not found: ${hint}`)
  return path
}
