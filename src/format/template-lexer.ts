/**
 * The lexer of the Go-template engine: turns template text into tokens the way Go's
 * text/template/parse/lex.go does (same token kinds, same trim-marker and comment rules, same
 * error words), so that error messages read like docker's.
 */

export type TokenType =
  | 'text'
  | 'leftDelim'
  | 'rightDelim'
  | 'space'
  | 'bool'
  | 'char'
  | 'charConstant'
  | 'declare'
  | 'assign'
  | 'dot'
  | 'field'
  | 'identifier'
  | 'variable'
  | 'number'
  | 'string'
  | 'rawString'
  | 'pipe'
  | 'leftParen'
  | 'rightParen'
  | 'keyword'
  | 'nil'
  | 'eof'
  | 'error'

export interface Token {
  type: TokenType
  /** The token's text (for `text`, after trimming; for `error`, the message). */
  value: string
  /** Offset in the template source (UTF-16 units). */
  pos: number
  /** 1-based line of the token's start. */
  line: number
}

export const KEYWORDS = new Set(['block', 'break', 'continue', 'define', 'else', 'end', 'if', 'range', 'template', 'with'])

const LEFT = '{{'
const RIGHT = '}}'
const isSpace = (c: string) => c === ' ' || c === '\t' || c === '\r' || c === '\n'
const isAlnum = (c: string) => c === '_' || /^[\p{L}\p{Nd}]$/u.test(c)

/** Tokens of `src`; the last one is `eof` or `error`. */
export function lex(src: string): Token[] {
  const out: Token[] = []
  let pos = 0
  let parenDepth = 0
  const lineAt = (p: number) => {
    let n = 1
    for (let i = 0; i < p; i++) if (src.charCodeAt(i) === 10) n++
    return n
  }
  const emit = (type: TokenType, value: string, start: number) => {
    out.push({type, value, pos: start, line: lineAt(start)})
  }
  const fail = (msg: string, at: number): Token[] => {
    out.push({type: 'error', value: msg, pos: at, line: lineAt(at)})
    return out
  }
  const trimMarkerAt = (p: number) => src[p] === '-' && isSpace(src[p + 1] ?? '')
  const rightTrimAt = (p: number) => isSpace(src[p] ?? '') && src[p + 1] === '-' && src.startsWith(RIGHT, p + 2)

  let trimNextText = false
  for (;;) {
    // Text up to the next action.
    const next = src.indexOf(LEFT, pos)
    const end = next < 0 ? src.length : next
    let text = src.slice(pos, end)
    if (trimNextText) text = text.replace(/^[ \t\r\n]+/, '')
    trimNextText = false
    const trimLeft = next >= 0 && trimMarkerAt(next + LEFT.length)
    if (trimLeft) text = text.replace(/[ \t\r\n]+$/, '')
    if (text.length > 0) emit('text', text, pos)
    if (next < 0) {
      emit('eof', '', src.length)
      return out
    }
    pos = next + LEFT.length + (trimLeft ? 2 : 0)
    // Comments: {{/* ... */}}, only right after the delimiter (and trim marker).
    if (src.startsWith('/*', pos)) {
      const close = src.indexOf('*/', pos + 2)
      if (close < 0) return fail('unclosed comment', next)
      let after = close + 2
      const rightTrim = rightTrimAt(after)
      if (rightTrim) after += 2
      if (!src.startsWith(RIGHT, after)) return fail('comment ends before closing delimiter', next)
      pos = after + RIGHT.length
      trimNextText = rightTrim
      continue
    }
    emit('leftDelim', LEFT, next)
    // Inside the action.
    for (;;) {
      if (rightTrimAt(pos) || src.startsWith(RIGHT, pos)) {
        const trim = rightTrimAt(pos)
        if (parenDepth > 0) return fail('unclosed left paren', pos)
        if (trim) pos += 2
        emit('rightDelim', RIGHT, pos)
        pos += RIGHT.length
        trimNextText = trim
        break
      }
      const c = src[pos]
      const start = pos
      if (c === undefined) return fail('unclosed action', start)
      if (isSpace(c)) {
        let p = pos
        while (p < src.length && isSpace(src[p]!) && !rightTrimAt(p)) p++
        // A newline inside an action is allowed (Go >= 1.16).
        emit('space', src.slice(pos, p), start)
        pos = p
        continue
      }
      if (c === '=') {
        emit('assign', '=', start)
        pos++
        continue
      }
      if (c === ':') {
        if (src[pos + 1] !== '=') return fail('expected :=', start)
        emit('declare', ':=', start)
        pos += 2
        continue
      }
      if (c === '|') {
        emit('pipe', '|', start)
        pos++
        continue
      }
      if (c === '"') {
        let p = pos + 1
        for (;;) {
          const d = src[p]
          if (d === undefined || d === '\n') return fail('unterminated quoted string', start)
          if (d === '\\') p += 2
          else if (d === '"') break
          else p++
        }
        emit('string', src.slice(pos, p + 1), start)
        pos = p + 1
        continue
      }
      if (c === '`') {
        const close = src.indexOf('`', pos + 1)
        if (close < 0) return fail('unterminated raw quoted string', start)
        emit('rawString', src.slice(pos, close + 1), start)
        pos = close + 1
        continue
      }
      if (c === "'") {
        let p = pos + 1
        for (;;) {
          const d = src[p]
          if (d === undefined || d === '\n') return fail('unterminated character constant', start)
          if (d === '\\') p += 2
          else if (d === "'") break
          else p++
        }
        emit('charConstant', src.slice(pos, p + 1), start)
        pos = p + 1
        continue
      }
      if (c === '$') {
        let p = pos + 1
        while (p < src.length && isAlnum(src[p]!)) p++
        emit('variable', src.slice(pos, p), start)
        pos = p
        if (!atTerminator(src, pos)) return fail(`bad character ${goRune(src[pos]!)}`, pos)
        continue
      }
      if (c === '.' && !/[0-9]/.test(src[pos + 1] ?? '')) {
        let p = pos + 1
        while (p < src.length && isAlnum(src[p]!)) p++
        if (p === pos + 1) emit('dot', '.', start)
        else emit('field', src.slice(pos, p), start)
        pos = p
        if (!atTerminator(src, pos)) return fail(`bad character ${goRune(src[pos]!)}`, pos)
        continue
      }
      if (c === '+' || c === '-' || c === '.' || /[0-9]/.test(c)) {
        const m = /^[+-]?(0[xX][0-9a-fA-F_]*(\.[0-9a-fA-F_]*)?([pP][+-]?[0-9_]+)?|0[bB][01_]+|0[oO][0-7_]+|[0-9_]*(\.[0-9_]*)?([eE][+-]?[0-9_]+)?)i?/.exec(src.slice(pos))
        let p = pos + (m?.[0].length ?? 0)
        if (!/[0-9]/.test(src.slice(pos, p)) || isAlnum(src[p] ?? '') || src[p] === '.') {
          while (p < src.length && (isAlnum(src[p]!) || src[p] === '.' || src[p] === '+' || src[p] === '-')) p++
          return fail(`bad number syntax: ${JSON.stringify(src.slice(pos, p))}`, start)
        }
        emit('number', src.slice(pos, p), start)
        pos = p
        continue
      }
      if (isAlnum(c)) {
        let p = pos
        while (p < src.length && isAlnum(src[p]!)) p++
        const word = src.slice(pos, p)
        if (!atTerminator(src, p)) return fail(`bad character ${goRune(src[p]!)}`, p)
        if (KEYWORDS.has(word)) emit('keyword', word, start)
        else if (word === 'true' || word === 'false') emit('bool', word, start)
        else if (word === 'nil') emit('nil', word, start)
        else emit('identifier', word, start)
        pos = p
        continue
      }
      if (c === '(') {
        parenDepth++
        emit('leftParen', '(', start)
        pos++
        continue
      }
      if (c === ')') {
        parenDepth--
        emit('rightParen', ')', start)
        pos++
        continue
      }
      if (c === ',') {
        emit('char', ',', start)
        pos++
        continue
      }
      if (c >= ' ' && c <= '~') {
        // Any other printable ASCII character: the parser reports it as unexpected.
        emit('char', c, start)
        pos++
        continue
      }
      return fail(`unrecognized character in action: ${goRune(c)}`, start)
    }
  }
}

/** After a word: space, end, or one of the characters that may follow an operand. */
function atTerminator(src: string, p: number): boolean {
  const c = src[p]
  if (c === undefined || isSpace(c)) return true
  if ('.,|:)('.includes(c)) return true
  return src.startsWith(RIGHT, p)
}

/** Go's %#U of a character: U+007D '}'. */
export function goRune(c: string): string {
  const cp = c.codePointAt(0) ?? 0
  const hex = cp.toString(16).toUpperCase().padStart(4, '0')
  return /\p{C}/u.test(c) ? `U+${hex}` : `U+${hex} '${c}'`
}
