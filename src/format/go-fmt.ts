/**
 * Go's fmt for the template engine: how a value prints (`{{.}}`, print, println) and printf's
 * verbs (%v %+v %s %q %d %t %x %X %o %b %c %U %e %f %g %T %%, width, precision, flags `-+# 0`,
 * `*` and `%[n]` argument indexes), with Go's `%!d(string=x)` / `%!d(MISSING)` / `%!(EXTRA ...)`
 * notes for mismatches. Also Go's encoding/json (map keys sorted) for docker's `json` function.
 *
 * One deliberate difference: JavaScript has one number type, so an integral number given to a
 * float verb (%e %f %g) is formatted as a float instead of Go's `%!f(int=3)`.
 */
import {goTime, kindOf, mapEntries, structFields, typeName} from './go-values.js'

interface Spec {
  /** %+v: field names in structs (the + flag itself is cleared, as in Go). */
  plusV?: boolean
  minus: boolean
  plus: boolean
  sharp: boolean
  space: boolean
  zero: boolean
  width: number | undefined
  prec: number | undefined
}
const plain: Spec = {minus: false, plus: false, sharp: false, space: false, zero: false, width: undefined, prec: undefined}

/** `{{.}}` and %v of any value. */
export function formatValue(v: unknown): string {
  return fmtArg(v, 'v', plain, 0)
}

/** fmt.Sprint: spaces between operands when neither is a string. */
export function sprint(args: unknown[]): string {
  let out = ''
  args.forEach((a, i) => {
    if (i > 0 && typeof a !== 'string' && typeof args[i - 1] !== 'string') out += ' '
    out += formatValue(a)
  })
  return out
}

/** fmt.Sprintln: spaces between all operands, a newline at the end. */
export function sprintln(args: unknown[]): string {
  return `${args.map(formatValue).join(' ')}\n`
}

/** fmt.Sprintf. */
export function sprintf(format: string, args: unknown[]): string {
  let out = ''
  let argNum = 0
  let reordered = false
  let i = 0
  while (i < format.length) {
    const pct = format.indexOf('%', i)
    if (pct < 0) {
      out += format.slice(i)
      break
    }
    out += format.slice(i, pct)
    i = pct + 1
    const spec: Spec = {...plain}
    let goodArgNum = true
    for (; i < format.length; i++) {
      const c = format[i]
      if (c === '-') {
        spec.minus = true
        spec.zero = false
      } else if (c === '+') spec.plus = true
      else if (c === '#') spec.sharp = true
      else if (c === ' ') spec.space = true
      else if (c === '0') spec.zero = !spec.minus
      else break
    }
    const argIndex = () => {
      const m = /^\[(\d*)\]/.exec(format.slice(i))
      if (!m) return
      i += m[0].length
      reordered = true
      const n = Number(m[1] || 0)
      if (n < 1 || n > args.length) goodArgNum = false
      else argNum = n - 1
    }
    const number = (): number | undefined => {
      argIndex()
      if (format[i] === '*') {
        i++
        const a = args[argNum++]
        if (typeof a === 'number' && Number.isInteger(a)) return a
        out += '%!(BADWIDTH)'
        return undefined
      }
      const m = /^\d+/.exec(format.slice(i))
      if (!m) return undefined
      i += m[0].length
      return Number(m[0])
    }
    spec.width = number()
    if (spec.width !== undefined && spec.width < 0) {
      spec.minus = true
      spec.zero = false
      spec.width = -spec.width
    }
    if (format[i] === '.') {
      i++
      spec.prec = number() ?? 0
    }
    argIndex()
    const verb = String.fromCodePoint(format.codePointAt(i) ?? 0)
    if (i >= format.length) {
      out += '%!(NOVERB)'
      break
    }
    i += verb.length
    if (verb === '%') {
      out += '%'
      continue
    }
    if (!goodArgNum) {
      out += `%!${verb}(BADINDEX)`
      continue
    }
    if (argNum >= args.length) {
      out += `%!${verb}(MISSING)`
      continue
    }
    const arg = args[argNum++]
    if (verb === 'v' && spec.plus) {
      spec.plus = false
      spec.plusV = true
    }
    out += verb === 'T' ? pad(typeName(arg), spec) : fmtArg(arg, verb, spec, 0)
  }
  if (!reordered && argNum < args.length) {
    out += `%!(EXTRA ${args
      .slice(argNum)
      .map((a) => (a === null || a === undefined ? '<nil>' : `${typeName(a)}=${formatValue(a)}`))
      .join(', ')})`
  }
  return out
}

function fmtArg(v: unknown, verb: string, spec: Spec, depth: number): string {
  const kind = kindOf(v)
  if (kind === 'invalid' || kind === 'nil') {
    if (depth > 0 || verb === 'v') return pad('<nil>', spec)
    return `%!${verb}(<nil>)`
  }
  // Stringer: a struct with a String() method prints through it for %v %s %q %x %X.
  if (kind === 'struct' && 'vsqxX'.includes(verb) && typeof (v as {String?: unknown}).String === 'function') {
    return fmtString(String((v as {String: () => unknown}).String()), verb, spec) ?? badVerb(v, verb)
  }
  switch (kind) {
    case 'bool':
      return verb === 'v' || verb === 't' ? pad(String(v), spec) : badVerb(v, verb)
    case 'int':
      return fmtInt(BigInt(v as number | bigint), verb, spec) ?? (('eEfFgG'.includes(verb) && fmtFloat(Number(v), verb, spec)) || badVerb(v, verb))
    case 'float':
      return fmtFloat(v as number, verb, spec) ?? badVerb(v, verb)
    case 'string':
      return fmtString(v as string, verb, spec) ?? badVerb(v, verb)
    case 'slice':
      return `[${Array.from(v as ArrayLike<unknown>, (e) => fmtArg(e, verb, spec, depth + 1)).join(' ')}]`
    case 'map':
      return `map[${mapEntries(v as object)
        .map(([k, e]) => `${fmtArg(k, verb, spec, depth + 1)}:${fmtArg(e, verb, spec, depth + 1)}`)
        .join(' ')}]`
    case 'struct': {
      if (v instanceof Date) return fmtString(goTime(v), verb === 'v' ? 's' : verb, spec) ?? badVerb(v, verb)
      const o = v as Record<string, unknown>
      const fields = structFields(o).map((f) => (spec.plusV && verb === 'v' ? `${f}:` : '') + fmtArg(o[f], verb, spec, depth + 1))
      return `{${fields.join(' ')}}`
    }
    case 'func':
      return verb === 'v' ? pad('<func>', spec) : badVerb(v, verb)
  }
}

function badVerb(v: unknown, verb: string): string {
  return `%!${verb}(${typeName(v)}=${formatValue(v)})`
}

function pad(s: string, spec: Spec, zeroOk = true): string {
  const w = spec.width ?? 0
  const len = [...s].length
  if (len >= w) return s
  const fill = (spec.zero && zeroOk && !spec.minus ? '0' : ' ').repeat(w - len)
  return spec.minus ? s + fill : fill + s
}

function fmtString(s: string, verb: string, spec: Spec): string | undefined {
  const cut = (x: string) => (spec.prec === undefined ? x : [...x].slice(0, spec.prec).join(''))
  switch (verb) {
    case 'v':
      if (spec.sharp) return pad(goQuote(s, false), spec)
      return pad(cut(s), spec)
    case 's':
      return pad(cut(s), spec)
    case 'q':
      if (spec.sharp && !/[`\p{Cc}]/u.test(s.replace(/\t/g, ''))) return pad(`\`${cut(s)}\``, spec)
      return pad(goQuote(cut(s), spec.plus), spec)
    case 'x':
    case 'X': {
      let bytes = [...Buffer.from(cut(s), 'utf8')].map((b) => b.toString(16).padStart(2, '0'))
      if (verb === 'X') bytes = bytes.map((b) => b.toUpperCase())
      const prefix = spec.sharp ? (verb === 'x' ? '0x' : '0X') : ''
      const sep = spec.space ? ' ' : ''
      const out = spec.space ? bytes.map((b) => prefix + b).join(sep) : prefix + bytes.join('')
      return pad(out, spec)
    }
  }
  return undefined
}

function fmtInt(n: bigint, verb: string, spec: Spec): string | undefined {
  const neg = n < 0n
  const abs = neg ? -n : n
  let digits: string
  let prefix = ''
  switch (verb) {
    case 'v':
    case 'd':
      digits = abs.toString(10)
      break
    case 'b':
      digits = abs.toString(2)
      if (spec.sharp) prefix = '0b'
      break
    case 'o':
      digits = abs.toString(8)
      if (spec.sharp) prefix = '0'
      break
    case 'O':
      digits = abs.toString(8)
      prefix = '0o'
      break
    case 'x':
      digits = abs.toString(16)
      if (spec.sharp) prefix = '0x'
      break
    case 'X':
      digits = abs.toString(16).toUpperCase()
      if (spec.sharp) prefix = '0X'
      break
    case 'c':
      return pad(safeCodePoint(n), spec, false)
    case 'q':
      return pad(quoteRune(safeCodePoint(n), spec.plus), spec, false)
    case 'U': {
      const hex = abs.toString(16).toUpperCase().padStart(4, '0')
      return pad(spec.sharp ? `U+${hex} '${safeCodePoint(n)}'` : `U+${hex}`, spec, false)
    }
    default:
      return undefined
  }
  if (spec.prec !== undefined) {
    if (spec.prec === 0 && n === 0n) digits = ''
    digits = digits.padStart(spec.prec, '0')
  }
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : ''
  if (spec.zero && !spec.minus && spec.prec === undefined && spec.width !== undefined) {
    const inner = Math.max(0, spec.width - sign.length - prefix.length)
    return sign + prefix + digits.padStart(inner, '0')
  }
  return pad(sign + prefix + digits, spec, false)
}

function safeCodePoint(n: bigint): string {
  return n >= 0n && n <= 0x10ffffn ? String.fromCodePoint(Number(n)) : '\ufffd'
}

function fmtFloat(x: number, verb: string, spec: Spec): string | undefined {
  let body: string
  if (!Number.isFinite(x)) {
    body = Number.isNaN(x) ? 'NaN' : x > 0 ? (spec.plus ? '+Inf' : 'Inf') : '-Inf'
    if (Number.isNaN(x) && (spec.plus || spec.space)) body = (spec.plus ? '+' : ' ') + body
    return pad(body, {...spec, zero: false})
  }
  const neg = x < 0 || Object.is(x, -0)
  const a = Math.abs(x)
  switch (verb) {
    case 'v':
    case 'g':
    case 'G':
      body = formatG(a, spec.prec)
      break
    case 'e':
    case 'E':
      body = formatE(decimal(a), spec.prec ?? 6)
      break
    case 'f':
    case 'F':
      body = formatF(decimal(a), spec.prec ?? 6)
      break
    default:
      return undefined
  }
  if (verb === 'E' || verb === 'G') body = body.toUpperCase()
  const sign = neg ? '-' : spec.plus ? '+' : spec.space ? ' ' : ''
  if (spec.zero && !spec.minus && spec.width !== undefined) return sign + body.padStart(Math.max(0, spec.width - sign.length), '0')
  return pad(sign + body, spec, false)
}

/** A non-negative number as decimal digits: value = 0.DIGITS × 10^dp (no leading or trailing zeros). */
interface Decimal {
  digits: string
  dp: number
}

/** The exact decimal expansion of a double (toFixed and BigInt compute it exactly). */
function decimal(a: number): Decimal {
  if (a === 0) return {digits: '', dp: 0}
  let intPart: string
  let frac: string
  if (a >= 1e21) {
    intPart = BigInt(a).toString()
    frac = ''
  } else if (a >= 1e-90) {
    ;[intPart, frac] = a.toFixed(100).split('.') as [string, string]
  } else {
    const [m, e] = a.toExponential(40).split('e') as [string, string]
    const mant = m.replace('.', '')
    return trim({digits: mant, dp: Number(e) + 1})
  }
  return trim({digits: intPart + frac, dp: intPart.length})
}

function trim(d: Decimal): Decimal {
  const lead = /^0*/.exec(d.digits)![0].length
  return {digits: d.digits.slice(lead).replace(/0+$/, ''), dp: d.digits.slice(lead) === '' ? 0 : d.dp - lead}
}

/** Keeps `n` digits, rounding half to even on exact ties as Go's strconv does. */
function roundDigits(d: Decimal, n: number): Decimal {
  if (n < 0) return {digits: '', dp: 0}
  if (d.digits.length <= n) return d
  const keep = d.digits.slice(0, n)
  const rest = d.digits.slice(n)
  const up = rest[0]! > '5' || (rest[0] === '5' && (rest.length > 1 || (keep.length > 0 && Number(keep.at(-1)) % 2 === 1)))
  if (!up) return trim({digits: keep, dp: d.dp})
  const arr = keep.split('')
  let i = arr.length - 1
  while (i >= 0 && arr[i] === '9') arr[i--] = '0'
  if (i < 0) return {digits: '1', dp: d.dp + 1}
  arr[i] = String(Number(arr[i]) + 1)
  return trim({digits: arr.join(''), dp: d.dp})
}

/** %e: one digit, `prec` decimals, an exponent of at least two digits. */
function formatE(d: Decimal, prec: number): string {
  const r = roundDigits(d, prec + 1)
  const m = r.digits.padEnd(prec + 1, '0')
  const exp = r.digits === '' ? 0 : r.dp - 1
  return `${m[0]}${prec > 0 ? `.${m.slice(1)}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
}

/** %f: `prec` decimals. */
function formatF(d: Decimal, prec: number): string {
  const r = roundDigits(d, d.dp + prec)
  const intPart = r.dp > 0 ? r.digits.slice(0, r.dp).padEnd(r.dp, '0') : '0'
  const frac = (r.dp >= 0 ? r.digits.slice(r.dp) : '0'.repeat(-r.dp) + r.digits).padEnd(prec, '0').slice(0, prec)
  return prec > 0 ? `${intPart}.${frac}` : intPart
}

/** %g: the shortest representation (or `prec` significant digits); %e form for large and small exponents. */
function formatG(a: number, prec: number | undefined): string {
  if (a === 0) return '0'
  let d: Decimal
  let eprec: number
  if (prec === undefined) {
    // The shortest digits that read back as the same double (JavaScript's own algorithm).
    const [m, e] = a.toExponential().split('e') as [string, string]
    d = trim({digits: m.replace('.', ''), dp: Number(e) + 1})
    eprec = 6
  } else {
    d = roundDigits(decimal(a), prec === 0 ? 1 : prec)
    eprec = prec === 0 ? 1 : prec
    if (eprec > d.digits.length && d.digits.length >= d.dp) eprec = d.digits.length
  }
  const exp = d.dp - 1
  if (exp < -4 || exp >= eprec) return formatE(d, d.digits.length - 1)
  return formatF(d, Math.max(d.digits.length - d.dp, 0))
}

/** Go's strconv.Quote (ascii: QuoteToASCII). */
export function goQuote(s: string, ascii: boolean): string {
  let out = '"'
  for (const c of s) out += escapeRune(c, '"', ascii)
  return `${out}"`
}

function quoteRune(c: string, ascii: boolean): string {
  return `'${escapeRune(c, "'", ascii)}'`
}

const SHORT: Record<string, string> = {'\x07': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\'}

function escapeRune(c: string, quote: string, ascii: boolean): string {
  if (c === quote) return `\\${c}`
  if (SHORT[c]) return SHORT[c]
  const cp = c.codePointAt(0)!
  if (cp < 0x80 ? cp >= 0x20 && cp !== 0x7f : !ascii && /^[\p{L}\p{M}\p{N}\p{P}\p{S}\p{Zs}]$/u.test(c) && c !== '\u00a0') return c
  if (cp < 0x80 && (cp < 0x20 || cp === 0x7f)) return `\\x${cp.toString(16).padStart(2, '0')}`
  if (cp === 0xfffd) return ascii ? '\\ufffd' : c
  if (cp > 0xffff) return `\\U${cp.toString(16).padStart(8, '0')}`
  return `\\u${cp.toString(16).padStart(4, '0')}`
}

/** Go's encoding/json with SetEscapeHTML(false): map keys sorted, structs in field order. */
export function goJson(v: unknown): string {
  switch (kindOf(v)) {
    case 'invalid':
    case 'nil':
    case 'func':
      return 'null'
    case 'bool':
      return String(v)
    case 'int':
      return typeof v === 'bigint' ? v.toString() : JSON.stringify(v)
    case 'float': {
      const x = v as number
      if (!Number.isFinite(x)) throw new Error(`json: unsupported value: ${formatValue(x)}`)
      return JSON.stringify(x)
    }
    case 'string':
      return JSON.stringify(v).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029')
    case 'slice':
      if (v instanceof Uint8Array) return JSON.stringify(Buffer.from(v).toString('base64'))
      return `[${Array.from(v as ArrayLike<unknown>, goJson).join(',')}]`
    case 'map':
      return `{${mapEntries(v as object)
        .filter(([, e]) => typeof e !== 'function')
        .map(([k, e]) => `${goJson(String(k))}:${goJson(e)}`)
        .join(',')}}`
    case 'struct': {
      if (v instanceof Date) return JSON.stringify(v.toISOString().replace(/\.?0+Z$/, 'Z'))
      const o = v as Record<string, unknown> & {toJSON?: () => unknown}
      if (typeof o.toJSON === 'function') {
        const j = o.toJSON()
        if (j !== o) return goJson(j)
      }
      return `{${structFields(o)
        .map((f) => `${goJson(f)}:${goJson(o[f])}`)
        .join(',')}}`
    }
  }
}
