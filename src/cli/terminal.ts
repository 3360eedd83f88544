import {Writable} from 'node:stream'
import type {CreateEvents, SessionIO} from '../engine/containers.js'
import {createProgress} from '../progress/render.js'

/** The CLI's own terminal as the streams of a container session; `-a` leaves out the streams not named. */
export function terminalIO(attach: ReadonlySet<'stdin' | 'stdout' | 'stderr'> = new Set(['stdin', 'stdout', 'stderr'])): SessionIO {
  const discard = () => new Writable({write: (_chunk, _enc, done) => done()})
  const stdout = attach.has('stdout') ? process.stdout : Object.assign(discard(), {on: process.stdout.on.bind(process.stdout), off: process.stdout.off.bind(process.stdout)})
  return {stdin: process.stdin, stdout, stderr: attach.has('stderr') ? process.stderr : discard()}
}

/**
 * What `run`/`create` print when the image must be pulled first, like docker: "Unable to find
 * image 'REF' locally", then the pull's progress on stderr. `finish` ends the progress display.
 */
export function pullReporter(): {events: CreateEvents; finish(): void} {
  let progress: ReturnType<typeof createProgress> | undefined
  return {
    events: {
      onPullStart: (ref, reason) => {
        if (reason === undefined || reason === 'missing') process.stderr.write(`Unable to find image '${ref}' locally\n`)
        progress = createProgress(process.stderr)
      },
      onPullEvent: (e) => progress?.sink(e),
      onWarning: (message) => process.stderr.write(`WARNING: ${message}\n`),
    },
    finish: () => progress?.finish(),
  }
}
