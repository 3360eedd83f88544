/** Sizes in configuration files and flags: `10m`, `512k`, `1g`, `4096` (docker's binary units). */

const UNITS: Record<string, number> = {'': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3}

/** `10m` → 10485760: a positive number with an optional unit k, m, g (and an optional b/ib); undefined when malformed. */
export function parseByteSize(spec: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?) ?([kmg]?)(?:i?b)?$/i.exec(spec.trim())
  if (!m) return undefined
  const bytes = Math.floor(Number(m[1]) * UNITS[m[2]!.toLowerCase()]!)
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : undefined
}

/** 10485760 → `10m`: with the largest unit that divides it exactly. */
export function formatByteSize(bytes: number): string {
  for (const unit of ['g', 'm', 'k'] as const) {
    if (bytes % UNITS[unit]! === 0) return `${bytes / UNITS[unit]!}${unit}`
  }
  return String(bytes)
}
