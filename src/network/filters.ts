import {UsageError} from '../errors.js'
/** What the filters look at: a user-defined network or a pre-defined one (`builtin`). */
export interface FilterableNetwork {
  name: string
  id: string
  driver: string
  labels: Record<string, string>
  builtin?: boolean
}

/** `network ls --filter` / `network prune --filter` values, grouped by key (docker: OR within a key, AND across keys). */
export type NetworkFilters = Map<string, string[]>

const KEYS = new Set(['name', 'id', 'label', 'driver', 'type', 'scope'])

export function parseNetworkFilters(values: string[]): NetworkFilters {
  const out: NetworkFilters = new Map()
  for (const v of values) {
    const eq = v.indexOf('=')
    if (eq <= 0) throw new UsageError(`bad filter "${v}": use KEY=VALUE`)
    const key = v.slice(0, eq).toLowerCase()
    if (!KEYS.has(key)) throw new UsageError(`invalid filter "${key}": use ${[...KEYS].join(', ')}`)
    out.set(key, [...(out.get(key) ?? []), v.slice(eq + 1)])
  }
  return out
}

function one(key: string, want: string, net: FilterableNetwork): boolean {
  switch (key) {
    case 'name':
      return net.name.includes(want)
    case 'id':
      return net.id.startsWith(want)
    case 'driver':
      return net.driver === want
    case 'scope':
      return want === 'local'
    case 'type':
      return want === (net.builtin ? 'builtin' : 'custom')
    case 'label': {
      const eq = want.indexOf('=')
      if (eq < 0) return want in net.labels
      return net.labels[want.slice(0, eq)] === want.slice(eq + 1)
    }
    default:
      return false
  }
}

/** Every key matches (one of its values); label filters must all match, as docker's. */
export function matchNetwork(net: FilterableNetwork, filters: NetworkFilters): boolean {
  for (const [key, wants] of filters) {
    if (key === 'label' ? !wants.every((w) => one(key, w, net)) : !wants.some((w) => one(key, w, net))) return false
  }
  return true
}
