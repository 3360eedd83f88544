/**
 * Compose's variable interpolation (compose-go's template package): `$VAR`, `${VAR}`,
 * `${VAR:-default}` / `${VAR-default}` (unset or empty / unset), `${VAR:?err}` / `${VAR?err}`,
 * `${VAR:+alt}` / `${VAR+alt}`, defaults and alternatives themselves interpolated (nested
 * `${A:-${B}}`), and `$$` for a literal `$`. Applied to every string value of the document,
 * never to keys.
 */
import {ComposeFileError} from '../../errors.js'
import {Tagged} from './parse.js'

export type Lookup = (name: string) => string | undefined

export interface InterpolateOptions {
  lookup: Lookup
  /** Called once per unset variable used without a default (docker compose warns and uses ""). */
  onUnset?: (name: string) => void
}

const NAME = /^[_a-zA-Z][_a-zA-Z0-9]*/

/** The problem with a template; the caller adds the file and the path. */
export class TemplateProblem extends Error {}

/** Interpolates one string. Throws TemplateProblem on an invalid template or a `?` variable that is missing. */
export function interpolateString(text: string, opts: InterpolateOptions): string {
  const {value, end} = scan(text, 0, opts)
  if (end !== text.length) throw new TemplateProblem(`invalid interpolation format for "${text}"`)
  return value
}

/** Interpolates text from `pos` to its end. */
function scan(text: string, pos: number, opts: InterpolateOptions): {value: string; end: number} {
  let out = ''
  let i = pos
  while (i < text.length) {
    const ch = text[i]!
    if (ch !== '$') {
      out += ch
      i++
      continue
    }
    const next = text[i + 1]
    if (next === '$') {
      out += '$'
      i += 2
      continue
    }
    if (next === '{') {
      const {value, end} = braced(text, i + 2, opts)
      out += value
      i = end
      continue
    }
    const m = NAME.exec(text.slice(i + 1))
    if (m) {
      out += lookupOrBlank(m[0], opts)
      i += 1 + m[0].length
      continue
    }
    // A lone `$` (end of text, or before a character that starts no name) stays as it is.
    out += '$'
    i++
  }
  return {value: out, end: i}
}

/** `${...}` starting after the brace; returns the value and the index after the closing brace. */
function braced(text: string, pos: number, opts: InterpolateOptions): {value: string; end: number} {
  const m = NAME.exec(text.slice(pos))
  if (!m) throw new TemplateProblem(`invalid interpolation format for "${text}": bad variable name after "\${"`)
  const name = m[0]
  let i = pos + name.length
  const value = opts.lookup(name)
  if (text[i] === '}') return {value: value ?? lookupOrBlank(name, opts), end: i + 1}
  let colon = false
  if (text[i] === ':') {
    colon = true
    i++
  }
  const op = text[i]
  if (op !== '-' && op !== '?' && op !== '+') throw new TemplateProblem(`invalid interpolation format for "${text}": unexpected "${text.slice(pos + name.length, pos + name.length + 2)}" after \${${name}`)
  // The default, error text or alternative: interpolated only when used, so a `?` in an unused
  // branch does not fail.
  const close = closingBrace(text, i + 1)
  const raw = text.slice(i + 1, close)
  const end = close + 1
  const set = value !== undefined && (!colon || value !== '')
  const sub = () => scan(raw, 0, opts).value
  switch (op) {
    case '-':
      return {value: set ? value : sub(), end}
    case '+':
      return {value: set ? sub() : '', end}
    default: {
      if (set) return {value, end}
      const message = sub()
      throw new TemplateProblem(message ? `required variable ${name} is missing a value: ${message}` : `required variable ${name} is missing a value`)
    }
  }
}

/** The index of the `}` closing a `${` whose content starts at `pos` (nested `${...}` and `$$` skipped). */
function closingBrace(text: string, pos: number): number {
  let depth = 0
  for (let i = pos; i < text.length; i++) {
    const ch = text[i]
    if (ch === '$' && (text[i + 1] === '$' || text[i + 1] === '{')) {
      if (text[i + 1] === '{') depth++
      i++
    } else if (ch === '}') {
      if (depth === 0) return i
      depth--
    }
  }
  throw new TemplateProblem(`invalid interpolation format for "${text}": missing closing brace`)
}

function lookupOrBlank(name: string, opts: InterpolateOptions): string {
  const v = opts.lookup(name)
  if (v === undefined) {
    opts.onUnset?.(name)
    return ''
  }
  return v
}

/**
 * Interpolates every string value of a parsed document (keys untouched), returning a new
 * document. `file` names the document in errors; paths are dotted (`services.web.image`).
 */
export function interpolateDocument(doc: unknown, opts: InterpolateOptions, file: string): unknown {
  const walk = (node: unknown, path: string[]): unknown => {
    if (typeof node === 'string') {
      try {
        return interpolateString(node, opts)
      } catch (err) {
        if (err instanceof TemplateProblem) throw new ComposeFileError(file, path, err.message)
        throw err
      }
    }
    if (node instanceof Tagged) return new Tagged(node.tag, walk(node.value, path))
    if (Array.isArray(node)) return node.map((v, i) => walk(v, [...path, `[${i}]`]))
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k])
      return out
    }
    return node
  }
  return walk(doc, [])
}

/** A variable a template uses, as `compose config --variables` lists it. */
export interface VariableUse {
  name: string
  /** `${VAR?err}` / `${VAR:?err}` */
  required: boolean
  /** `${VAR-x}` / `${VAR:-x}`: x as written */
  defaultValue?: string
  /** `${VAR+x}` / `${VAR:+x}`: x as written */
  alternateValue?: string
}

/** The variables a string uses, nested defaults included, without looking any up. Broken templates: what was found before. */
export function templateVariables(text: string): VariableUse[] {
  const out: VariableUse[] = []
  let i = 0
  while (i < text.length) {
    if (text[i] !== '$') {
      i++
      continue
    }
    const next = text[i + 1]
    if (next === '$') {
      i += 2
      continue
    }
    if (next !== '{') {
      const m = NAME.exec(text.slice(i + 1))
      if (m) out.push({name: m[0], required: false})
      i += 1 + (m?.[0].length ?? 0)
      continue
    }
    const m = NAME.exec(text.slice(i + 2))
    if (!m) break
    let j = i + 2 + m[0].length
    const use: VariableUse = {name: m[0], required: false}
    if (text[j] === '}') {
      out.push(use)
      i = j + 1
      continue
    }
    if (text[j] === ':') j++
    const op = text[j]
    let close: number
    try {
      close = closingBrace(text, j + 1)
    } catch {
      break
    }
    const inner = text.slice(j + 1, close)
    if (op === '?') use.required = true
    else if (op === '-') use.defaultValue = inner
    else if (op === '+') use.alternateValue = inner
    else break
    out.push(use, ...templateVariables(inner))
    i = close + 1
  }
  return out
}
