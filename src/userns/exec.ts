import {RuntimeError} from '../errors.js'
import {helperPath} from './helpers.js'
import type {IdMapping, UserNsMapping} from './idmap.js'

const fmt = (m: IdMapping) => `${m.containerID}:${m.hostID}:${m.size}`

/**
 * The argv that runs `argv` as root of a new user namespace with `mapping` (and a new mount
 * namespace with `mount`); with `join` (/proc/PID/ns/user) as root of that existing one instead.
 */
export function userNsArgv(mapping: UserNsMapping, argv: string[], opts: {mount?: boolean; join?: string} = {}): {file: string; args: string[]} {
  const args: string[] = []
  if (opts.mount) args.push('--mount')
  if (opts.join) {
    args.push('--join', opts.join, '--', ...argv)
    return {file: helperPath('ctr-ts-userns'), args}
  }
  for (const m of mapping.uids) args.push('--uid-map', fmt(m))
  for (const m of mapping.gids) args.push('--gid-map', fmt(m))
  args.push('--', ...argv)
  return {file: helperPath('ctr-ts-userns'), args}
}

/** Last meaningful line of a child's stderr, for one-line error messages. */
export function lastLine(text: string): string {
  const lines = text.split('\n').map((l) => l.trim()).filter(Boolean)
  return lines.at(-1) ?? ''
}

export async function runInUserNs(
  mapping: UserNsMapping,
  argv: string[],
  opts: {input?: string; mount?: boolean} = {},
): Promise<{stdout: string; stderr: string}> {
  const {file, args} = userNsArgv(mapping, argv, {mount: opts.mount})
  // Loaded on first use: execa costs tens of milliseconds at start-up, most commands never need it.
  const {execa} = await import('execa')
  const result = await execa(file, args, {input: opts.input ?? '', reject: false, stripFinalNewline: true})
  if (result.exitCode !== 0) {
    const why = lastLine(String(result.stderr)) || `exit code ${result.exitCode}`
    throw new RuntimeError(`${argv[0]} in user namespace failed: ${why}`)
  }
  return {stdout: String(result.stdout), stderr: String(result.stderr)}
}
