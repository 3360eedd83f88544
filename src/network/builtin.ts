import {createHash} from 'node:crypto'
import {SLIRP} from './etc-files.js'
import type {NetworkName} from './mode.js'

/**
 * docker's pre-defined networks, as `network ls`/`inspect` show them: `bridge` is ctr-ts's
 * default network (each container its own slirp4netns, as docker's default bridge: no names),
 * `host` and `none` the modes of the same names. They are not stored, cannot be removed, and
 * their ids are fixed (a hash of the name).
 */
export interface BuiltinNetwork {
  name: 'bridge' | 'host' | 'none'
  id: string
  driver: 'bridge' | 'host' | 'null'
  /** The containers' `network` mode this network stands for. */
  mode: NetworkName
  /** IPAM config (the default network: slirp4netns' subnet and gateway). */
  subnet?: string
  gateway?: string
  /** A container's address on it (slirp4netns gives each the same one). */
  containerIp?: string
}

const idOf = (name: string) => createHash('sha256').update(`ctr-ts pre-defined network ${name}`).digest('hex')

export const BUILTIN_NETWORKS: readonly BuiltinNetwork[] = [
  {name: 'bridge', id: idOf('bridge'), driver: 'bridge', mode: 'slirp4netns', subnet: SLIRP.cidr, gateway: SLIRP.gateway, containerIp: SLIRP.guest},
  {name: 'host', id: idOf('host'), driver: 'host', mode: 'host'},
  {name: 'none', id: idOf('none'), driver: 'null', mode: 'none'},
]

/** The pre-defined network named `nameOrId` (or whose id starts with it, 12 digits at least as shown). */
export function findBuiltinNetwork(nameOrId: string): BuiltinNetwork | undefined {
  return BUILTIN_NETWORKS.find((n) => n.name === nameOrId || (/^[0-9a-f]{12,64}$/.test(nameOrId) && n.id.startsWith(nameOrId)))
}

/** docker's refusal of `network rm bridge`. */
export function predefinedMessage(name: string): string {
  return `${name} is a pre-defined network and cannot be removed`
}
