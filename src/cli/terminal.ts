import type {CreateEvents, SessionIO} from '../engine/containers.js'
import {createProgress} from '../progress/render.js'

/** The CLI's own terminal as the streams of a container session. */
export function terminalIO(): SessionIO {
  return {stdin: process.stdin, stdout: process.stdout, stderr: process.stderr}
}

/**
 * What `run`/`create` print when the image must be pulled first, like docker: "Unable to find
 * image 'REF' locally", then the pull's progress on stderr. `finish` ends the progress display.
 */
export function pullReporter(): {events: CreateEvents; finish(): void} {
  let progress: ReturnType<typeof createProgress> | undefined
  return {
    events: {
      onPullStart: (ref) => {
        process.stderr.write(`Unable to find image '${ref}' locally\n`)
        progress = createProgress(process.stderr)
      },
      onPullEvent: (e) => progress?.sink(e),
    },
    finish: () => progress?.finish(),
  }
}
