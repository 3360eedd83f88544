/**
 * Merging canonical documents in -f order, with the compose specification's rules: mappings are
 * merged key by key (the later file wins on conflicts); sequences are appended, except
 * command/entrypoint/healthcheck.test which the later file replaces; ports (by host ip, target,
 * published, protocol), volumes (by target), secrets and configs (by target, else source) are
 * merged by their unique key; plain string lists (dns, expose, cap_add, ...) keep each value
 * once; a logging section with another driver replaces the previous one. `!reset` removes the
 * attribute, `!override` replaces it whole.
 */
import {portKey, type Raw} from './canonical.js'
import {Tagged} from './parse.js'

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v) && !(v instanceof Tagged)

/** Attributes of a service the later file replaces instead of merging. */
const REPLACED = new Set(['command', 'entrypoint'])

/** Sequences of a service merged by a unique key. */
const KEYED: Record<string, (e: unknown) => string> = {
  ports: (e) => (isMap(e) ? portKey(e) : JSON.stringify(e)),
  volumes: (e) => (isMap(e) ? String(e.target) : JSON.stringify(e)),
  secrets: (e) => (isMap(e) ? String(e.target ?? e.source) : JSON.stringify(e)),
  configs: (e) => (isMap(e) ? String(e.target ?? e.source) : JSON.stringify(e)),
  env_file: (e) => (isMap(e) ? String(e.path) : JSON.stringify(e)),
}

/** Removes tags from a value that has nothing under it to merge with. */
export function untag(v: unknown): unknown {
  if (v instanceof Tagged) return v.tag === 'reset' ? undefined : untag(v.value)
  if (Array.isArray(v)) return v.map(untag)
  if (isMap(v)) {
    const out: Raw = {}
    for (const [k, x] of Object.entries(v)) {
      const u = untag(x)
      if (u !== undefined) out[k] = u
    }
    return out
  }
  return v
}

function mergeSequence(base: unknown[], over: unknown[], key?: (e: unknown) => string): unknown[] {
  if (key) {
    const out = new Map<string, unknown>()
    for (const e of base) out.set(key(e), e)
    for (const e of over) {
      const k = key(e)
      const prev = out.get(k)
      out.set(k, isMap(prev) && isMap(e) ? mergeValue(prev, e, []) : untag(e))
    }
    return [...out.values()]
  }
  const all = [...base, ...over.map(untag)]
  // Lists of plain values keep each value once (docker compose: cap_add, dns, expose, ...).
  if (all.every((e) => typeof e === 'string' || typeof e === 'number')) return [...new Set(all)]
  return all
}

/** Merges `over` onto `base`; `path` is where we are (for the attribute-specific rules). */
function mergeValue(base: unknown, over: unknown, path: readonly string[]): unknown {
  if (over instanceof Tagged) return over.tag === 'reset' ? undefined : untag(over.value)
  if (base === undefined) return untag(over)
  const inService = path.length >= 2 && path[0] === 'services'
  const attr = inService && path.length === 3 ? path[2]! : undefined
  if (attr && REPLACED.has(attr)) return untag(over)
  if (inService && path.length === 4 && path[2] === 'healthcheck' && path[3] === 'test') return untag(over)
  if (attr === 'logging' && isMap(base) && isMap(over) && over.driver !== undefined && base.driver !== undefined && over.driver !== base.driver) return untag(over)
  if (Array.isArray(base) && Array.isArray(over)) return mergeSequence(base, over, attr ? KEYED[attr] : undefined)
  if (isMap(base) && isMap(over)) {
    const out: Raw = {...base}
    for (const [k, v] of Object.entries(over)) {
      const merged = mergeValue(base[k], v, [...path, k])
      if (merged === undefined) delete out[k]
      else out[k] = merged
    }
    return out
  }
  // A scalar, or a change of shape (string → list): the later file wins.
  return untag(over)
}

/** Merges canonical documents in order (the first one is the base). */
export function mergeDocuments(docs: readonly Raw[]): Raw {
  let out: Raw = {}
  for (const d of docs) out = mergeValue(out, d, []) as Raw
  return out
}

/** Merges one service's attributes onto a base service (`extends`), with the same rules. */
export function mergeService(name: string, base: Raw, over: Raw): Raw {
  return mergeValue(untag(base), over, ['services', name]) as Raw
}
