/**
 * Attach requests that arrived before their container started (docker's `run`: attach, then
 * start): the start hands the session to the shim's first connection, so no output is missed.
 */
import type {SessionFor, SessionResult} from '../../engine/containers.js'

export interface PendingAttach {
  session: SessionFor
  done: (r: SessionResult) => void
}

export class AttachRegistry {
  private readonly pending = new Map<string, PendingAttach[]>()

  add(id: string, p: PendingAttach): () => void {
    const list = this.pending.get(id) ?? []
    list.push(p)
    this.pending.set(id, list)
    return () => {
      const l = this.pending.get(id)
      if (!l) return
      const i = l.indexOf(p)
      if (i >= 0) l.splice(i, 1)
      if (l.length === 0) this.pending.delete(id)
    }
  }

  /** The first waiting session (the others attach once it runs: `rest`). */
  take(id: string): PendingAttach | undefined {
    const l = this.pending.get(id)
    if (!l || l.length === 0) return undefined
    const first = l.shift()!
    if (l.length === 0) this.pending.delete(id)
    return first
  }

  /** Sessions still waiting after a start (more than one attach): they attach to the running container. */
  rest(id: string): PendingAttach[] {
    const l = this.pending.get(id) ?? []
    this.pending.delete(id)
    return l
  }

  /** The container is gone: its waiting sessions end. */
  cancel(id: string): void {
    for (const p of this.rest(id)) p.done({detached: false, exitCode: 0})
  }
}
