/**
 * The functions a template can call: Go's text/template builtins (and, or, not, len, index,
 * slice, print, printf, println, eq, ne, lt, le, gt, ge, call, html, js, urlquery) and docker's
 * additions (json, join, split, lower, upper, title, truncate, pad), with Go's argument checks
 * and error words.
 */
import {formatValue, goJson, sprint, sprintf, sprintln} from './go-fmt.js'
import {byteLength, kindOf, mapEntries, truth, typeName} from './go-values.js'

/**
 * How an argument is checked before the call: `string`, `int`, `strings` ([]string) and `bool`
 * must have that Go type; `any` turns a missing value into nil (Go's interface{} parameters);
 * `raw` passes the value as it is, missing included (Go's reflect.Value parameters).
 */
export type Param = 'string' | 'int' | 'strings' | 'bool' | 'any' | 'raw'

export interface FuncSpec {
  fn: (...args: never[]) => unknown
  params: Param[]
  /** Type of the arguments after `params`, when the function takes any number of them. */
  variadic?: Param
}

/** A function supplied by a caller: called with the argument values as they are. */
export type TemplateFunction = (...args: unknown[]) => unknown

export type FuncMap = Record<string, FuncSpec>

export class FuncError extends Error {}

const fail = (msg: string): never => {
  throw new FuncError(msg)
}

type Basic = 'bool' | 'int' | 'float' | 'string' | 'invalid' | 'other'
function basicKind(v: unknown): Basic {
  const k = kindOf(v)
  if (k === 'nil' || k === 'invalid') return 'invalid'
  if (k === 'bool' || k === 'int' || k === 'float' || k === 'string') return k
  return 'other'
}

function eq(a: unknown, ...rest: unknown[]): boolean {
  if (rest.length === 0) return fail('missing argument for comparison')
  const ka = basicKind(a)
  for (const b of rest) {
    const kb = basicKind(b)
    const numeric = (k: Basic) => k === 'int' || k === 'float'
    if (ka !== kb && !(numeric(ka) && numeric(kb))) {
      if (ka !== 'invalid' && kb !== 'invalid') fail('incompatible types for comparison')
      continue
    }
    if (ka === 'other') {
      if (typeof a === 'object' || typeof b === 'object') fail(`non-comparable types ${formatValue(a)}: ${typeName(a)}, ${typeName(b)}: ${formatValue(b)}`)
      if (a === b) return true
      continue
    }
    if (ka === 'invalid') {
      if (kb === 'invalid') return true
      continue
    }
    // eslint-disable-next-line eqeqeq
    if (a == b) return true
  }
  return false
}

function less(a: unknown, b: unknown): boolean {
  const ka = basicKind(a)
  const kb = basicKind(b)
  const ordered = (k: Basic) => k === 'int' || k === 'float' || k === 'string'
  if (!ordered(ka) || !ordered(kb)) return fail('invalid type for comparison')
  if (ka !== kb && !(ka !== 'string' && kb !== 'string')) return fail('incompatible types for comparison')
  return (a as number | string | bigint) < (b as number | string | bigint)
}

function length(v: unknown): number {
  const k = kindOf(v)
  if (k === 'invalid' || k === 'nil') return fail('len of nil pointer')
  if (k === 'string') return byteLength(v as string)
  if (k === 'slice') return (v as ArrayLike<unknown>).length
  if (k === 'map') return v instanceof Map ? v.size : Object.keys(v as object).length
  return fail(`len of type ${typeName(v)}`)
}

function indexArg(i: unknown, cap: number): number {
  if (kindOf(i) !== 'int') fail(`cannot index slice/array with type ${typeName(i)}`)
  const n = Number(i)
  if (n < 0 || n > cap) fail(`index out of range: ${n}`)
  return n
}

/**
 * A missing key read through `index`: Go returns the zero value of the map's element type. A
 * JavaScript map has no element type, so it is guessed from the values present: "" for a map of
 * strings (and an empty map: docker's Labels and Options are map[string]string), 0 for numbers,
 * false for booleans, nil otherwise.
 */
function zeroOfMap(m: object): unknown {
  const vals = mapEntries(m).map(([, v]) => kindOf(v))
  if (vals.every((k) => k === 'string')) return ''
  if (vals.every((k) => k === 'int' || k === 'float')) return 0
  if (vals.every((k) => k === 'bool')) return false
  return null
}

function index(item: unknown, ...indexes: unknown[]): unknown {
  let v = item
  if (kindOf(v) === 'invalid' || kindOf(v) === 'nil') return fail('index of untyped nil')
  for (const i of indexes) {
    const k = kindOf(v)
    if (k === 'slice') {
      const a = v as ArrayLike<unknown>
      const n = indexArg(i, a.length)
      if (n === a.length) fail(`index out of range: ${n}`)
      v = a[n]
    } else if (k === 'string') {
      const b = Buffer.from(v as string, 'utf8')
      const n = indexArg(i, b.length)
      if (n === b.length) fail(`index out of range: ${n}`)
      v = b[n]
    } else if (k === 'map') {
      const m = v as object
      if (kindOf(i) !== 'string' && kindOf(i) !== 'int') fail(`value has type ${typeName(i)}; should be string`)
      const found = m instanceof Map ? m.has(i) : Object.hasOwn(m, String(i))
      v = found ? (m instanceof Map ? m.get(i) : (m as Record<string, unknown>)[String(i)]) : zeroOfMap(m)
    } else if (k === 'nil' || k === 'invalid') {
      return fail('index of nil pointer')
    } else {
      return fail(`can't index item of type ${typeName(v)}`)
    }
  }
  return v
}

function slice(item: unknown, ...idx: unknown[]): unknown {
  const k = kindOf(item)
  if (k === 'invalid' || k === 'nil') return fail('slice of untyped nil')
  if (idx.length > 3) return fail(`too many slice indexes: ${idx.length}`)
  if (k === 'string') {
    if (idx.length === 3) return fail('cannot 3-index slice a string')
    const b = Buffer.from(item as string, 'utf8')
    const [i, j] = sliceBounds(idx, b.length)
    return b.subarray(i, j).toString('utf8')
  }
  if (k !== 'slice') return fail(`can't slice item of type ${typeName(item)}`)
  const a = Array.from(item as ArrayLike<unknown>)
  const [i, j] = sliceBounds(idx, a.length)
  return a.slice(i, j)
}

function sliceBounds(idx: unknown[], cap: number): [number, number] {
  const n = idx.map((i) => indexArg(i, cap))
  const i = n[0] ?? 0
  const j = n[1] ?? cap
  if (i > j) fail(`invalid slice index: ${i} > ${j}`)
  if (n[2] !== undefined && j > n[2]) fail(`invalid slice index: ${j} > ${n[2]}`)
  return [i, j]
}

function evalArgsString(args: unknown[]): string {
  return args.length === 1 && typeof args[0] === 'string' ? args[0] : sprint(args)
}

function htmlEscape(s: string): string {
  return s.replace(/[<>&'"\0]/g, (c) => ({'<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&#39;', '"': '&#34;', '\0': '\ufffd'})[c]!)
}

function jsEscape(s: string): string {
  let out = ''
  for (const c of s) {
    const cp = c.codePointAt(0)!
    if (c === '\\') out += '\\\\'
    else if (c === "'") out += "\\'"
    else if (c === '"') out += '\\"'
    else if ('<>&='.includes(c) || cp < 0x20 || (cp >= 0x7f && !/^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(c))) {
      out += cp > 0xffff ? c : `\\u${cp.toString(16).toUpperCase().padStart(4, '0')}`
    } else out += c
  }
  return out
}

function queryEscape(s: string): string {
  let out = ''
  for (const b of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(b)
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c
    else if (c === ' ') out += '+'
    else out += `%${b.toString(16).toUpperCase().padStart(2, '0')}`
  }
  return out
}

/** Go's strings.Title: the first letter of each word in upper case. */
function title(s: string): string {
  let prev = ' '
  let out = ''
  for (const c of s) {
    const sep = /^[A-Za-z0-9_]$/.test(prev) ? false : /^[\p{L}\p{N}]$/u.test(prev) ? false : true
    out += sep ? c.toUpperCase() : c
    prev = c
  }
  return out
}

/** Go's strings.Split: an empty separator splits into characters. */
function split(s: string, sep: string): string[] {
  return sep === '' ? [...s] : s.split(sep)
}

function json(v: unknown): string {
  try {
    return goJson(v)
  } catch {
    // docker's json function ignores the encoder's error and prints nothing.
    return ''
  }
}

export const BUILTINS: FuncMap = {
  and: {fn: (...a: unknown[]) => a.find((x) => !truth(x)) ?? a.at(-1), params: ['raw'], variadic: 'raw'},
  or: {fn: (...a: unknown[]) => a.find((x) => truth(x)) ?? a.at(-1), params: ['raw'], variadic: 'raw'},
  not: {fn: (a: unknown) => !truth(a), params: ['raw']},
  len: {fn: length, params: ['raw']},
  index: {fn: index, params: ['raw'], variadic: 'raw'},
  slice: {fn: slice, params: ['raw'], variadic: 'raw'},
  print: {fn: (...a: unknown[]) => sprint(a), params: [], variadic: 'any'},
  printf: {fn: (f: string, ...a: unknown[]) => sprintf(f, a), params: ['string'], variadic: 'any'},
  println: {fn: (...a: unknown[]) => sprintln(a), params: [], variadic: 'any'},
  eq: {fn: eq, params: ['raw'], variadic: 'raw'},
  ne: {fn: (a: unknown, b: unknown) => !eq(a, b), params: ['raw', 'raw']},
  lt: {fn: less, params: ['raw', 'raw']},
  le: {fn: (a: unknown, b: unknown) => less(a, b) || eq(a, b), params: ['raw', 'raw']},
  gt: {fn: (a: unknown, b: unknown) => !(less(a, b) || eq(a, b)), params: ['raw', 'raw']},
  ge: {fn: (a: unknown, b: unknown) => !less(a, b), params: ['raw', 'raw']},
  call: {
    fn: (f: unknown, ...a: unknown[]) => {
      if (typeof f !== 'function') return fail(`non-function of type ${typeName(f)}`)
      return (f as TemplateFunction)(...a)
    },
    params: ['raw'],
    variadic: 'any',
  },
  html: {fn: (...a: unknown[]) => htmlEscape(evalArgsString(a)), params: [], variadic: 'any'},
  js: {fn: (...a: unknown[]) => jsEscape(evalArgsString(a)), params: [], variadic: 'any'},
  urlquery: {fn: (...a: unknown[]) => queryEscape(evalArgsString(a)), params: [], variadic: 'any'},
}

/** docker's template functions (docker/cli templates.basicFunctions). */
export const DOCKER_FUNCS: FuncMap = {
  json: {fn: json, params: ['any']},
  split: {fn: split, params: ['string', 'string']},
  join: {fn: (a: string[], sep: string) => a.join(sep), params: ['strings', 'string']},
  title: {fn: title, params: ['string']},
  lower: {fn: (s: string) => s.toLowerCase(), params: ['string']},
  upper: {fn: (s: string) => s.toUpperCase(), params: ['string']},
  pad: {fn: (s: string, pre: number, post: number) => (s === '' ? s : ' '.repeat(pre) + s + ' '.repeat(post)), params: ['string', 'int', 'int']},
  truncate: {fn: (s: string, n: number) => ([...s].length < n ? s : [...s].slice(0, n).join('')), params: ['string', 'int']},
}

/**
 * docker's header functions: when a `table` template is run on the header row, these replace the
 * docker functions so the column names come out as they are (docker/cli HeaderFunctions).
 */
export const HEADER_FUNCS: FuncMap = {
  json: {fn: (v: unknown) => v, params: ['any']},
  split: {fn: (v: unknown) => v, params: ['any', 'any']},
  join: {fn: (v: unknown) => v, params: ['any', 'any']},
  title: {fn: (v: unknown) => v, params: ['any']},
  lower: {fn: (v: unknown) => v, params: ['any']},
  upper: {fn: (v: unknown) => v, params: ['any']},
  truncate: {fn: (v: unknown) => v, params: ['any', 'any']},
}
