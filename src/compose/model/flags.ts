import {Flags} from '@oclif/core'
import type {LoadOptions} from './types.js'

const many = {multiple: true, multipleNonGreedy: true} as const

/**
 * docker compose's project flags, shared by every `compose` subcommand:
 * `static override flags = {...composeFlags, ...own}` then `loadProject(composeLoadOptions(flags))`.
 */
export const composeFlags = {
  file: Flags.string({char: 'f', description: 'compose configuration file (repeatable, merged in order; "-" reads stdin)', ...many}),
  'project-name': Flags.string({char: 'p', description: 'project name (default: COMPOSE_PROJECT_NAME, the top-level name:, or the directory name)'}),
  'project-directory': Flags.string({description: 'working directory of the project (default: the directory of the first compose file)'}),
  'env-file': Flags.string({description: 'environment file for interpolation (repeatable; default: .env in the project directory)', ...many}),
  profile: Flags.string({description: 'enable a profile (repeatable; default: COMPOSE_PROFILES)', ...many}),
}

/** The parsed composeFlags as loadProject's options (warnings printed on stderr, as docker compose does). */
export function composeLoadOptions(flags: {
  file?: string[]
  'project-name'?: string
  'project-directory'?: string
  'env-file'?: string[]
  profile?: string[]
}): LoadOptions {
  const opts: LoadOptions = {onWarning: printComposeWarning}
  if (flags.file?.length) opts.files = flags.file
  if (flags['project-name'] !== undefined) opts.projectName = flags['project-name']
  if (flags['project-directory'] !== undefined) opts.projectDirectory = flags['project-directory']
  if (flags['env-file']?.length) opts.envFiles = flags['env-file']
  if (flags.profile?.length) opts.profiles = flags.profile
  return opts
}

/** How compose commands show the model's warnings (docker compose prints them and goes on). */
export function printComposeWarning(message: string): void {
  process.stderr.write(`WARNING: ${message}\n`)
}
