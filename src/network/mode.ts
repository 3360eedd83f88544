import {UsageError} from '../errors.js'

/**
 * How a container is networked: the built-in modes, `bridge` (user-defined networks, listed in
 * the record's `networks`) or `container` (another container's network namespace).
 */
export type NetworkName = 'none' | 'slirp4netns' | 'host' | 'bridge' | 'container'

/** The built-in modes a `--network` value may name. */
export const BUILTIN_MODES = new Set(['none', 'host', 'slirp4netns'])

/** What the `--network` values ask for. */
export type NetworkRequest =
  | {kind: 'builtin'; value: string}
  | {kind: 'container'; target: string}
  | {kind: 'user'; names: string[]}

/**
 * Sorts `--network` values (repeatable): one built-in mode, `container:NAME`, or one or more
 * user-defined networks (docker: only user-defined networks may be combined).
 */
export function classifyNetworks(values: string[]): NetworkRequest | undefined {
  if (values.length === 0) return undefined
  // `bridge` (docker's default network) is no user-defined network: networkMode says what to use
  const builtin = values.filter((v) => BUILTIN_MODES.has(v.split(':')[0] ?? '') || v === 'bridge' || v.startsWith('container:'))
  if (builtin.length > 0 && values.length > 1) throw new UsageError(`--network ${builtin[0]} cannot be combined with other networks`)
  const [first] = values as [string]
  if (first.startsWith('container:')) {
    const target = first.slice('container:'.length)
    if (!target) throw new UsageError('--network container: needs a container name or id')
    return {kind: 'container', target}
  }
  if (builtin.length > 0) return {kind: 'builtin', value: first}
  if (new Set(values).size !== values.length) throw new UsageError('a network was given twice')
  return {kind: 'user', names: values}
}

export interface NetworkChoice {
  network: NetworkName
  allowHostLoopback: boolean
}

/**
 * `--network MODE`, with podman's option for slirp4netns: `slirp4netns:allow_host_loopback=true`
 * lets the container reach the host's 127.0.0.1 at 10.0.2.2 (default: network.allowHostLoopback).
 */
export function networkMode(requested: string, allowByDefault: boolean): NetworkChoice {
  const [mode = '', opts] = requested.split(/:(.*)/s)
  if (mode !== 'none' && mode !== 'host' && mode !== 'slirp4netns') throw new UsageError(`unknown network "${mode}": use slirp4netns, none or host`)
  let allowHostLoopback = mode === 'slirp4netns' && allowByDefault
  if (opts !== undefined) {
    if (mode !== 'slirp4netns') throw new UsageError(`network "${mode}" takes no options`)
    for (const opt of opts.split(',')) {
      const m = /^allow_host_loopback=(true|false)$/.exec(opt)
      if (!m) throw new UsageError(`unknown slirp4netns option "${opt}": the one supported is allow_host_loopback=true|false`)
      allowHostLoopback = m[1] === 'true'
    }
  }
  return {network: mode, allowHostLoopback}
}
