/** What a pull reports as it goes; renderers turn these into lines. */
export type PullEvent =
  | {type: 'resolving'; ref: string}
  | {type: 'resolved'; ref: string; digest: string; mediaType: string; platform?: string}
  | {type: 'layer'; phase: 'exists' | 'waiting' | 'downloading' | 'verifying' | 'done' | 'unpacking' | 'unpacked'; digest: string; size: number}
  | {type: 'progress'; digest: string; current: number; total: number}
  | {type: 'unpacking'}
  | {type: 'unpacked'}
  | {type: 'notice'; message: string}
  | {type: 'pulled'; ref: string; digest: string}

export type PullEventSink = (e: PullEvent) => void

export function shortDigest(digest: string): string {
  return digest.replace(/^sha256:/, '').slice(0, 12)
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024
    i++
  }
  return `${v < 10 ? v.toFixed(2) : v < 100 ? v.toFixed(1) : v.toFixed(0)} ${units[i]}`
}
