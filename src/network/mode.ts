import {UsageError} from '../errors.js'

export type NetworkName = 'none' | 'slirp4netns' | 'host'

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
