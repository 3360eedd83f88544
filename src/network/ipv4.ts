import {UsageError} from '../errors.js'

/** An IPv4 subnet as numbers (network and broadcast addresses included). */
export interface Subnet {
  network: number
  broadcast: number
  prefix: number
}

export function parseIpv4(s: string): number {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(s)
  if (!m || m.slice(1).some((o) => Number(o) > 255)) throw new UsageError(`invalid IPv4 address "${s}"`)
  return m.slice(1).reduce((acc, o) => acc * 256 + Number(o), 0)
}

export function formatIpv4(n: number): string {
  return [24, 16, 8, 0].map((shift) => Math.floor(n / 2 ** shift) % 256).join('.')
}

/** `a.b.c.d/N`; host bits are cleared (docker refuses them; we keep the network). */
export function parseCidr(s: string): Subnet {
  const m = /^([\d.]+)\/(\d{1,2})$/.exec(s)
  if (!m || Number(m[2]) > 32 || Number(m[2]) < 8) throw new UsageError(`invalid subnet "${s}": use a.b.c.d/N (N from 8 to 30)`)
  const prefix = Number(m[2])
  const size = 2 ** (32 - prefix)
  const network = Math.floor(parseIpv4(m[1]!) / size) * size
  return {network, broadcast: network + size - 1, prefix}
}

export function inSubnet(ip: number, s: Subnet): boolean {
  return ip >= s.network && ip <= s.broadcast
}
