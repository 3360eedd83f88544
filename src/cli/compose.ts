/**
 * What every `compose` subcommand shares on the front-end side: the project from the shared
 * compose flags, progress on stderr, colours, and the service arguments.
 */
import {Flags} from '@oclif/core'
import {composeFlags, composeLoadOptions} from '../compose/model/flags.js'
import type {ComposeProject} from '../compose/model/types.js'
import {type Progress, streamProgress} from '../compose/project/progress.js'

export {composeFlags}

/**
 * The project flags for subcommands whose own -f means something else (`logs -f` follows, `rm
 * -f` forces, as in docker compose): --file has no short form there; `compose -f X logs -f`
 * still works (the -f before the subcommand is moved after it as --file).
 */
export const composeFlagsLongFile = {
  ...composeFlags,
  file: Flags.string({description: 'compose configuration file (repeatable, merged in order; "-" reads stdin)', multiple: true, multipleNonGreedy: true}),
}

export type ComposeFlagValues = Parameters<typeof composeLoadOptions>[0]

/** The resolved project (files found, interpolated, merged, validated) for the compose flags. */
export async function loadComposeProject(flags: ComposeFlagValues): Promise<ComposeProject> {
  const {loadProject} = await import('../compose/model/load.js')
  return loadProject(composeLoadOptions(flags))
}

/** docker compose's progress lines on stderr. */
export function composeProgress(quiet = false): Progress {
  return streamProgress(process.stderr, quiet)
}

/** Coloured log prefixes: a terminal, and neither --no-color nor NO_COLOR. */
export function useColour(noColor: boolean | undefined): boolean {
  return !noColor && process.stdout.isTTY === true && !process.env.NO_COLOR
}

/** -t/--timeout as docker compose takes it. */
export const timeoutFlag = Flags.integer({char: 't', description: 'seconds to wait for a container to stop before SIGKILL'})
