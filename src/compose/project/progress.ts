/**
 * docker compose's plain progress: ` Container NAME  Started` lines and warnings on stderr.
 * The runner reports through this interface; the commands decide where it goes.
 */
export type ObjectKind = 'Network' | 'Volume' | 'Container' | 'Image' | 'Service'

export interface Progress {
  event(kind: ObjectKind, name: string, state: string): void
  warn(message: string): void
}

/** Progress lines on a stream (stderr), as `docker compose --progress plain` prints them. */
export function streamProgress(out: NodeJS.WritableStream, quiet = false): Progress {
  return {
    event: (kind, name, state) => {
      if (!quiet) out.write(` ${kind} ${name}  ${state}\n`)
    },
    warn: (message) => out.write(`WARN[0000] ${message}\n`),
  }
}

export const silentProgress: Progress = {event: () => {}, warn: () => {}}
