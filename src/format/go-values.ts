/**
 * How JavaScript values look to the Go-template engine: which are Go structs, maps, slices,
 * nil, and how Go's reflection-based rules (truth, field lookup, map key order, type names) apply
 * to them.
 *
 * The rule for objects:
 * - an object made by a class (its prototype is not Object.prototype or null), or marked with
 *   `goStruct()`, is a **struct**: its fields are its own enumerable properties plus the getters of
 *   its prototype chain; a property whose value is a function is a **method**, called with the
 *   template's arguments (`{{.Label "k"}}`); an unknown field is an execution error (`can't
 *   evaluate field Nope in type ContainerRow`);
 * - any other object (a plain `{}` literal, JSON.parse output, a `Record` such as Labels) and a
 *   `Map` are **maps**: a missing key is Go's invalid value, printed `<no value>`; function-valued
 *   entries are called like methods too;
 * - arrays are slices; `undefined` is Go's invalid value (a missing map key); `null` is nil
 *   (`<nil>`); a Date is a struct (Go's time.Time) that prints like Go prints a time.
 * - numbers: an integral number below 1e21 is an `int`, any other a `float64`; bigints are ints.
 */

const STRUCT = Symbol.for('ctr-ts.go-struct')

/** Marks a plain object as a Go struct (unknown fields are errors); `typeName` for messages. */
export function goStruct<T extends object>(o: T, typeName = 'struct'): T {
  Object.defineProperty(o, STRUCT, {value: typeName, enumerable: false})
  return o
}

export type Kind = 'invalid' | 'nil' | 'bool' | 'int' | 'float' | 'string' | 'slice' | 'map' | 'struct' | 'func'

export function kindOf(v: unknown): Kind {
  switch (typeof v) {
    case 'undefined':
      return 'invalid'
    case 'boolean':
      return 'bool'
    case 'bigint':
      return 'int'
    case 'number':
      return Number.isInteger(v) && Math.abs(v) < 1e21 ? 'int' : 'float'
    case 'string':
      return 'string'
    case 'function':
      return 'func'
    case 'symbol':
      return 'string'
  }
  if (v === null) return 'nil'
  if (Array.isArray(v) || ArrayBuffer.isView(v)) return 'slice'
  if (v instanceof Map) return 'map'
  if (isStruct(v as object)) return 'struct'
  return 'map'
}

function isStruct(o: object): boolean {
  if (STRUCT in o) return true
  const proto: unknown = Object.getPrototypeOf(o)
  return proto !== Object.prototype && proto !== null
}

/** Go-ish type name, for messages and %T. */
export function typeName(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return '<nil>'
    case 'bool':
      return 'bool'
    case 'int':
      return 'int'
    case 'float':
      return 'float64'
    case 'string':
      return 'string'
    case 'func':
      return 'func'
    case 'slice': {
      if (v instanceof Uint8Array) return '[]uint8'
      return `[]${elementType(Array.from(v as ArrayLike<unknown>))}`
    }
    case 'map':
      return `map[string]${elementType(mapEntries(v as object).map(([, e]) => e))}`
    case 'struct': {
      if (v instanceof Date) return 'time.Time'
      const o = v as Record<symbol, unknown>
      if (typeof o[STRUCT] === 'string') return o[STRUCT]
      return (v as object).constructor?.name || 'struct'
    }
  }
}

/** A collection's element type: a basic type when all elements have it, else interface {}. */
function elementType(values: unknown[]): string {
  const kinds = new Set(values.map(kindOf))
  const [k] = kinds
  if (kinds.size !== 1 || k === undefined) return 'interface {}'
  return k === 'string' || k === 'bool' || k === 'int' ? k : k === 'float' ? 'float64' : 'interface {}'
}

/** A map's entries, keys sorted the way Go's fmt and text/template sort them. */
export function mapEntries(m: object): [string | number, unknown][] {
  const entries: [string | number, unknown][] =
    m instanceof Map ? [...(m as Map<string | number, unknown>).entries()] : Object.keys(m).map((k) => [k, (m as Record<string, unknown>)[k]])
  return entries.sort(([a], [b]) => compareKeys(a, b))
}

function compareKeys(a: string | number, b: string | number): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b
  const sa = String(a)
  const sb = String(b)
  return sa < sb ? -1 : sa > sb ? 1 : 0
}

/** A struct's field names: own enumerable properties, then the getters of its classes. */
export function structFields(o: object): string[] {
  const names = Object.keys(o)
  for (let p: unknown = Object.getPrototypeOf(o); p && p !== Object.prototype; p = Object.getPrototypeOf(p)) {
    for (const [name, d] of Object.entries(Object.getOwnPropertyDescriptors(p))) {
      if (d.get && !names.includes(name)) names.push(name)
    }
  }
  return names.filter((n) => typeof (o as Record<string, unknown>)[n] !== 'function')
}

/** Go's truth: false, 0, "", nil, invalid and empty slices and maps are false; structs true. */
export function truth(v: unknown): boolean {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
      return false
    case 'bool':
      return v as boolean
    case 'int':
    case 'float':
      return typeof v === 'bigint' ? v !== 0n : v !== 0 && !Number.isNaN(v)
    case 'string':
      return (v as string).length > 0
    case 'slice':
      return (v as ArrayLike<unknown>).length > 0
    case 'map':
      return v instanceof Map ? v.size > 0 : Object.keys(v as object).length > 0
    case 'struct':
    case 'func':
      return true
  }
}

/** Length of a string in bytes (Go's len), of a slice, of a map. */
export function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8')
}

/** Go's time.Time String(): 2024-01-01 10:00:00.5 +0000 UTC. */
export function goTime(d: Date): string {
  if (Number.isNaN(d.getTime())) return '0001-01-01 00:00:00 +0000 UTC'
  const iso = d.toISOString()
  const frac = iso.slice(20, 23).replace(/0+$/, '')
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)}${frac ? `.${frac}` : ''} +0000 UTC`
}

/**
 * A copy of plain data (JSON-like objects) in which every plain object is a struct except the
 * values of the keys named in `mapFields` (a key `K`, or `P.K` for the key K of an object found
 * under key P), which stay maps; their values follow the same rule. Arrays are copied element by
 * element; class instances and other values are kept as they are.
 */
export function goView(value: unknown, mapFields: ReadonlySet<string>): unknown {
  const view = (v: unknown, key: string, parentKey: string): unknown => {
    if (Array.isArray(v)) return v.map((e) => view(e, key, parentKey))
    if (v === null || typeof v !== 'object' || kindOf(v) !== 'map' || v instanceof Map) return v
    const isMap = mapFields.has(key) || mapFields.has(`${parentKey}.${key}`)
    const copy: Record<string, unknown> = {}
    for (const [k, e] of Object.entries(v)) copy[k] = isMap ? view(e, '', key) : view(e, k, key)
    return isMap ? copy : goStruct(copy)
  }
  return view(value, '', '')
}
