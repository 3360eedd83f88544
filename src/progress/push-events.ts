import {formatBytes, shortDigest} from './events.js'

/** What a push reports as it goes (docker's per-layer lines). */
export type PushEvent =
  | {type: 'repository'; name: string}
  | {type: 'blob'; phase: 'preparing' | 'compressing' | 'pushing' | 'exists' | 'mounted' | 'pushed'; digest: string; size: number; from?: string}
  | {type: 'progress'; digest: string; current: number; total: number}
  | {type: 'notice'; message: string}
  | {type: 'pushed'; ref: string; tag: string; digest: string; size: number}

export type PushEventSink = (e: PushEvent) => void

/** One plain line per event (to stderr: stdout carries only the result line). */
export function createPushProgress(stream: NodeJS.WritableStream = process.stderr): {sink: PushEventSink} {
  const out = (line: string) => stream.write(`${line}\n`)
  return {
    sink(e) {
      switch (e.type) {
        case 'repository':
          out(`The push refers to repository [${e.name}]`)
          break
        case 'blob':
          if (e.phase === 'exists') out(`${shortDigest(e.digest)}: Layer already exists`)
          else if (e.phase === 'mounted') out(`${shortDigest(e.digest)}: Mounted from ${e.from ?? ''}`)
          else if (e.phase === 'pushing') out(`${shortDigest(e.digest)}: Pushing (${formatBytes(e.size)})`)
          else if (e.phase === 'compressing') out(`${shortDigest(e.digest)}: Compressing`)
          else if (e.phase === 'pushed') out(`${shortDigest(e.digest)}: Pushed`)
          break
        case 'notice':
          out(e.message)
          break
        default:
          break
      }
    },
  }
}
