import {spawn} from 'node:child_process'
import {helperPath} from '../userns/helpers.js'

/**
 * PAX mtimes to the nanosecond. Node's utimes takes a double (1704067200.123456789 becomes
 * .122999906), so the unpacker sets times with it as usual, then hands the entries whose PAX
 * mtime has a fraction to the C helper ctr-ts-utimens, which sets them exactly (utimensat)
 * beneath the layer root without following symlinks.
 */
export interface ExactTime {
  sec: number
  nsec: number
}

/** A PAX time (`1704067200.123456789`, `-1.5`) as seconds and nanoseconds; undefined without a fraction or when malformed. */
export function parsePaxTime(value: string): ExactTime | undefined {
  const m = /^(-?)(\d+)\.(\d+)$/.exec(value)
  if (!m) return undefined
  const whole = Number(m[2])
  const nsec = Number(m[3]!.slice(0, 9).padEnd(9, '0'))
  if (!Number.isSafeInteger(whole)) return undefined
  if (m[1] !== '-') return {sec: whole, nsec}
  return nsec === 0 ? {sec: -whole, nsec: 0} : {sec: -whole - 1, nsec: 1_000_000_000 - nsec}
}

/** The helper's input: `SEC NSEC PATH` records ended by NUL. */
export function timeRecords(entries: Map<string, ExactTime>): Buffer {
  const parts: Buffer[] = []
  for (const [rel, t] of entries) parts.push(Buffer.from(`${t.sec} ${t.nsec} `), Buffer.from(rel, 'utf8'), Buffer.from([0]))
  return Buffer.concat(parts)
}

/** Sets the times with one helper run; resolves to a warning, or undefined when all were set. */
export async function setExactTimes(root: string, entries: Map<string, ExactTime>): Promise<string | undefined> {
  const list = new Map([...entries].filter(([rel]) => rel !== ''))
  if (list.size === 0) return undefined
  let file: string
  try {
    file = helperPath('ctr-ts-utimens')
  } catch (err) {
    return `modification times kept to the millisecond only: ${(err as Error).message}`
  }
  const result = await new Promise<{code: number | null; stderr: string}>((resolve) => {
    const child = spawn(file, [root], {stdio: ['pipe', 'ignore', 'pipe']})
    let stderr = ''
    child.stderr.setEncoding('utf8')
    child.stderr.on('data', (s: string) => {
      if (stderr.length < 4096) stderr += s
    })
    child.on('error', (err) => resolve({code: null, stderr: err.message}))
    child.on('close', (code) => resolve({code, stderr}))
    child.stdin.on('error', () => {})
    child.stdin.end(timeRecords(list))
  })
  if (result.code === 0) return undefined
  const first = result.stderr.split('\n').find((l) => l.trim()) ?? `exit code ${result.code}`
  return `some modification times not set to the nanosecond: ${first.trim()}`
}
