import type {Context} from '../../context.js'
import type {IdleTracker} from '../server.js'

/** What every route module gets: the engine's context and the service's own facts. */
export interface ApiDeps {
  ctx: Context
  /** ctr-ts's version (the oclif package version). */
  version: string
  /** Streams that outlive their request (events, logs -f, attach) hold it with `idle.begin()`. */
  idle: IdleTracker
}
