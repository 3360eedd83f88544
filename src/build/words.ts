/**
 * Docker's shell-like word processing for Dockerfile instructions: quotes ('...' literal, "..."
 * with expansion), backslash escapes, and variables: $VAR, ${VAR}, ${VAR:-default},
 * ${VAR-default}, ${VAR:+alt}, ${VAR+alt}. Unknown variables expand to ''.
 */
export type Vars = ReadonlyMap<string, string>

export class WordError extends Error {}

function expandAt(s: string, i: number, vars: Vars): {value: string; end: number} {
  // s[i] === '$'
  const next = s[i + 1]
  if (next === '{') {
    const close = findClose(s, i + 2)
    if (close < 0) throw new WordError(`missing '}' in ${JSON.stringify(s)}`)
    const inner = s.slice(i + 2, close)
    const m = /^([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-+])([\s\S]*))?$/.exec(inner)
    if (!m) throw new WordError(`bad substitution: \${${inner}}`)
    const name = m[1]!
    const op = m[2]
    const set = vars.has(name)
    const value = vars.get(name) ?? ''
    let result = value
    if (op) {
      const word = processWord(m[3] ?? '', vars)
      if (op === ':-') result = value !== '' ? value : word
      else if (op === '-') result = set ? value : word
      else if (op === ':+') result = value !== '' ? word : ''
      else if (op === '+') result = set ? word : ''
    }
    return {value: result, end: close + 1}
  }
  const m = /^[A-Za-z_][A-Za-z0-9_]*/.exec(s.slice(i + 1))
  if (!m) return {value: '$', end: i + 1}
  return {value: vars.get(m[0]) ?? '', end: i + 1 + m[0].length}
}

function findClose(s: string, from: number): number {
  let depth = 1
  for (let i = from; i < s.length; i++) {
    if (s[i] === '\\') i++
    else if (s[i] === '{') depth++
    else if (s[i] === '}' && --depth === 0) return i
  }
  return -1
}

/** The words of `s` (split on unquoted white space), quotes removed, variables expanded. */
export function processWords(s: string, vars: Vars): string[] {
  const words: string[] = []
  let cur = ''
  let inWord = false
  let i = 0
  while (i < s.length) {
    const c = s[i]!
    if (/\s/.test(c)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
      i++
      continue
    }
    inWord = true
    if (c === '\\') {
      cur += s[i + 1] ?? ''
      i += 2
    } else if (c === "'") {
      const end = s.indexOf("'", i + 1)
      if (end < 0) throw new WordError(`unexpected end of statement while looking for matching single-quote`)
      cur += s.slice(i + 1, end)
      i = end + 1
    } else if (c === '"') {
      i++
      for (;;) {
        if (i >= s.length) throw new WordError(`unexpected end of statement while looking for matching double-quote`)
        const d = s[i]!
        if (d === '"') {
          i++
          break
        }
        if (d === '\\' && (s[i + 1] === '"' || s[i + 1] === '\\' || s[i + 1] === '$')) {
          cur += s[i + 1]
          i += 2
        } else if (d === '$') {
          const r = expandAt(s, i, vars)
          cur += r.value
          i = r.end
        } else {
          cur += d
          i++
        }
      }
    } else if (c === '$') {
      const r = expandAt(s, i, vars)
      cur += r.value
      i = r.end
    } else {
      cur += c
      i++
    }
  }
  if (inWord) words.push(cur)
  return words
}

/** One string: quotes removed, variables expanded, white space kept as written. */
export function processWord(s: string, vars: Vars): string {
  // Split keeping the separators, so `a  b` stays `a  b`.
  let out = ''
  let i = 0
  while (i < s.length) {
    const ws = /^\s+/.exec(s.slice(i))
    if (ws) {
      out += ws[0]
      i += ws[0].length
      continue
    }
    // one word up to unquoted white space
    let j = i
    let q: string | undefined
    while (j < s.length) {
      const c = s[j]!
      if (q) {
        if (c === '\\' && q === '"') j++
        else if (c === q) q = undefined
      } else if (c === '\\') j++
      else if (c === '"' || c === "'") q = c
      else if (c === '$' && s[j + 1] === '{') {
        j = findClose(s, j + 2)
        if (j < 0) throw new WordError(`missing '}' in ${JSON.stringify(s)}`)
      } else if (/\s/.test(c)) break
      j++
    }
    out += processWords(s.slice(i, j), vars).join('')
    i = j
  }
  return out
}

/** `KEY=VALUE ...` pairs (ENV, LABEL, ARG), or the legacy `KEY VALUE` form when `legacy`. */
export function keyValuePairs(rest: string, vars: Vars, legacy: boolean): Array<[string, string | undefined]> {
  const firstWord = /^\S+/.exec(rest)?.[0] ?? ''
  if (legacy && !firstWord.includes('=')) {
    const value = rest.slice(firstWord.length).trim()
    return [[firstWord, value === '' ? undefined : processWord(value, vars)]]
  }
  return processWords(rest, vars).map((w) => {
    const eq = w.indexOf('=')
    return eq < 0 ? [w, undefined] : [w.slice(0, eq), w.slice(eq + 1)]
  })
}
