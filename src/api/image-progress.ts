/**
 * The engine's pull and push events as docker's JSON progress messages (what `docker pull` and
 * `docker push` render): `{"status":"Downloading","progressDetail":{...},"id":"<12 hex>"}`.
 */
import type {PullEvent, PushEvent} from '../engine/images.js'
import {parseReference} from '../reference/parse.js'

export interface ProgressMessage {
  status?: string
  id?: string
  progressDetail?: {current?: number; total?: number}
  progress?: string
  aux?: Record<string, unknown>
}

const short = (digest: string) => digest.replace(/^sha256:/, '').slice(0, 12)

function bar(current: number, total: number): string {
  if (total <= 0) return ''
  const width = 50
  const n = Math.min(width, Math.floor((current / total) * width))
  const mb = (b: number) => `${(b / 1e6).toFixed(2)}MB`
  return `[${'='.repeat(Math.max(0, n - 1))}${n > 0 ? '>' : ''}${' '.repeat(width - n)}] ${mb(current)}/${mb(total)}`
}

/** Turns pull events into docker's messages; `downloaded` says whether a layer was fetched. */
export class PullMessages {
  downloaded = false
  private readonly announced = new Set<string>()

  constructor(private readonly ref: string) {}

  messages(e: PullEvent): ProgressMessage[] {
    switch (e.type) {
      case 'resolving': {
        const r = parseReference(this.ref)
        return [{status: `Pulling from ${r.repository}`, id: r.tag ?? r.digest ?? 'latest'}]
      }
      case 'layer': {
        const id = short(e.digest)
        const out: ProgressMessage[] = []
        if (!this.announced.has(id) && e.phase !== 'exists') {
          this.announced.add(id)
          out.push({status: 'Pulling fs layer', progressDetail: {}, id})
        }
        const status = {
          exists: 'Already exists',
          waiting: 'Waiting',
          downloading: 'Downloading',
          verifying: 'Verifying Checksum',
          done: 'Download complete',
          unpacking: 'Extracting',
          unpacked: 'Pull complete',
        }[e.phase]
        if (e.phase === 'downloading' || e.phase === 'done') this.downloaded = true
        if (e.phase !== 'waiting' || out.length === 0) out.push({status, progressDetail: {}, id})
        return out
      }
      case 'progress':
        this.downloaded = true
        return [{status: 'Downloading', progressDetail: {current: e.current, total: e.total}, progress: bar(e.current, e.total), id: short(e.digest)}]
      case 'notice':
        return [{status: e.message}]
      case 'pulled':
        return [{status: `Digest: ${e.digest}`}]
      default:
        return []
    }
  }

  /** docker's last line. */
  final(): ProgressMessage {
    const name = parseReference(this.ref).familiar()
    return {status: this.downloaded ? `Status: Downloaded newer image for ${name}` : `Status: Image is up to date for ${name}`}
  }
}

/** Push events as docker's messages. */
export function pushMessages(e: PushEvent): ProgressMessage[] {
  switch (e.type) {
    case 'repository':
      return [{status: `The push refers to repository [${e.name}]`}]
    case 'blob': {
      const id = short(e.digest)
      const status = {
        preparing: 'Preparing',
        compressing: 'Preparing',
        pushing: 'Pushing',
        exists: 'Layer already exists',
        mounted: `Mounted from ${e.from ?? ''}`,
        pushed: 'Pushed',
      }[e.phase]
      return [{status, progressDetail: {}, id}]
    }
    case 'progress':
      return [{status: 'Pushing', progressDetail: {current: e.current, total: e.total}, progress: bar(e.current, e.total), id: short(e.digest)}]
    case 'notice':
      return [{status: e.message}]
    case 'pushed':
      return [
        {status: `${e.tag}: digest: ${e.digest} size: ${e.size}`, progressDetail: {}},
        {progressDetail: {}, aux: {Tag: e.tag, Digest: e.digest, Size: e.size}},
      ]
    default:
      return []
  }
}
