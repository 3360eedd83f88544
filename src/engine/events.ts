/** The events facade: docker's `events` from the journal the CLI and the shims append to. */
import type {Context} from '../context.js'
import {type EventFilters, readEvents} from '../events/stream.js'
import type {EventMessage} from '../events/journal.js'

export type {EventFilters} from '../events/stream.js'
export type {EventMessage} from '../events/journal.js'

export interface EventsOptions {
  sinceMs?: number
  untilMs?: number
  filters?: EventFilters
  /** Keep following new events (until `untilMs`, or the signal). */
  follow: boolean
  onEvent: (e: EventMessage) => void
  signal?: AbortSignal
}

export function events(ctx: Context, opts: EventsOptions): Promise<void> {
  return readEvents(ctx.store, opts)
}
