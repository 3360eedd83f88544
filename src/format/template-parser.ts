/**
 * The parser of the Go-template engine: tokens (template-lexer.ts) to a tree shaped like Go's
 * text/template/parse (list, text, action, if, range, with, break, continue; pipelines of
 * commands whose words are fields, variables, functions, literals and parenthesized pipelines).
 * Parse errors are worded like Go's: `template: :1: function "foo" not defined`.
 */
import {goRune, lex, type Token} from './template-lexer.js'

export interface Pos {
  pos: number
}
export type Operand =
  | (Pos & {kind: 'field'; ident: string[]})
  | (Pos & {kind: 'variable'; ident: string[]})
  | (Pos & {kind: 'chain'; node: Operand; field: string[]})
  | (Pos & {kind: 'identifier'; name: string})
  | (Pos & {kind: 'dot'})
  | (Pos & {kind: 'nil'})
  | (Pos & {kind: 'bool'; value: boolean})
  | (Pos & {kind: 'number'; text: string; value: number | bigint})
  | (Pos & {kind: 'string'; text: string; value: string})
  | PipeNode
export interface CommandNode extends Pos {
  kind: 'command'
  args: Operand[]
}
export interface PipeNode extends Pos {
  kind: 'pipe'
  decl: string[]
  isAssign: boolean
  cmds: CommandNode[]
}
export interface ControlNode extends Pos {
  kind: 'if' | 'with' | 'range'
  pipe: PipeNode
  list: Node[]
  elseList: Node[] | undefined
}
export type Node =
  | (Pos & {kind: 'text'; text: string})
  | (Pos & {kind: 'action'; pipe: PipeNode})
  | ControlNode
  | (Pos & {kind: 'break' | 'continue'})
  | (Pos & {kind: 'template'; name: string; nameText: string; pipe: PipeNode | undefined})

/** A parsed template: the root list and the `{{define}}`d templates. */
export interface Tree {
  root: Node[]
  defines: Map<string, Node[]>
}

export class TemplateParseError extends Error {}

type ControlEnd = {kind: 'end'; pos: number} | {kind: 'else'; pos: number; chained: 'if' | 'with' | undefined}

/** Parses `src`; `isFunction` says which identifiers name functions. */
export function parse(src: string, isFunction: (name: string) => boolean, name = ''): Tree {
  return new Parser(src, isFunction, name).parseAll()
}

class Parser {
  private readonly tokens: Token[]
  private i = 0
  private vars: string[] = ['$']
  private rangeDepth = 0
  private readonly defines = new Map<string, Node[]>()

  constructor(
    private readonly src: string,
    private readonly isFunction: (name: string) => boolean,
    private readonly name: string,
  ) {
    this.tokens = lex(src)
  }

  parseAll(): Tree {
    const root: Node[] = []
    while (this.peek().type !== 'eof') {
      if (this.peek().type === 'leftDelim' && this.isDefine()) continue
      const n = this.textOrAction()
      if ('kind' in n && (n.kind === 'end' || n.kind === 'else')) this.fail(`unexpected {{${n.kind}}}`)
      root.push(n as Node)
    }
    return {root, defines: this.defines}
  }

  /** `{{define "name"}} ... {{end}}` at the top level. */
  private isDefine(): boolean {
    const save = this.i
    this.next()
    const t = this.nextNonSpace()
    if (t.type !== 'keyword' || t.value !== 'define') {
      this.i = save
      return false
    }
    const nameTok = this.nextNonSpace()
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, 'define clause')
    const defName = this.stringValue(nameTok)
    this.expect('rightDelim', 'define clause')
    const saveVars = this.vars
    this.vars = ['$']
    const [list, end] = this.itemList()
    if (end.kind !== 'end') this.fail('unexpected {{else}} in define clause')
    this.vars = saveVars
    this.defines.set(defName, list)
    return true
  }

  // ---- tokens

  private peek(): Token {
    return this.tokens[this.i]!
  }
  private next(): Token {
    const t = this.tokens[this.i]!
    if (t.type === 'error') this.failAt(t.line, t.value)
    if (t.type !== 'eof') this.i++
    return t
  }
  private peekNonSpace(): Token {
    while (this.peek().type === 'space') this.i++
    const t = this.peek()
    if (t.type === 'error') this.failAt(t.line, t.value)
    return t
  }
  private nextNonSpace(): Token {
    this.peekNonSpace()
    return this.next()
  }
  private expect(type: Token['type'], context: string): Token {
    const t = this.nextNonSpace()
    if (t.type !== type) this.unexpected(t, context)
    return t
  }
  private unexpected(t: Token, context: string): never {
    return this.failAt(t.line, `unexpected ${describeToken(t)} in ${context}`)
  }
  private line(): number {
    return this.tokens[Math.max(0, this.i - 1)]!.line
  }
  private fail(msg: string): never {
    return this.failAt(this.line(), msg)
  }
  private failAt(line: number, msg: string): never {
    throw new TemplateParseError(`template: ${this.name}:${line}: ${msg}`)
  }

  // ---- structure

  private textOrAction(): Node | ControlEnd {
    const t = this.nextNonSpace()
    if (t.type === 'text') return {kind: 'text', pos: t.pos, text: t.value}
    if (t.type === 'leftDelim') return this.action()
    return this.unexpected(t, 'input')
  }

  private action(): Node | ControlEnd {
    const t = this.nextNonSpace()
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'if':
        case 'with':
        case 'range':
          return this.control(t.value, t.pos)
        case 'end':
          this.expect('rightDelim', 'end')
          return {kind: 'end', pos: t.pos}
        case 'else': {
          const p = this.peekNonSpace()
          if (p.type === 'keyword' && (p.value === 'if' || p.value === 'with')) return {kind: 'else', pos: t.pos, chained: p.value}
          this.expect('rightDelim', 'else')
          return {kind: 'else', pos: t.pos, chained: undefined}
        }
        case 'break':
        case 'continue':
          if (this.rangeDepth === 0) this.fail(`{{${t.value}}} outside {{range}}`)
          this.expect('rightDelim', `{{${t.value}}}`)
          return {kind: t.value, pos: t.pos}
        case 'template':
        case 'block':
          return this.templateControl(t.value)
        case 'define':
          return this.fail('unexpected <define> in command')
      }
    }
    this.i--
    return {kind: 'action', pos: t.pos, pipe: this.pipeline('command', 'rightDelim')}
  }

  private control(kind: 'if' | 'with' | 'range', pos: number): Node {
    const mark = this.vars.length
    const pipe = this.pipeline(kind, 'rightDelim')
    if (kind === 'range') this.rangeDepth++
    let [list, end] = this.itemList()
    if (kind === 'range') this.rangeDepth--
    let elseList: Node[] | undefined
    if (end.kind === 'else') {
      if (end.chained !== undefined && end.chained === kind) {
        // {{else if ...}} / {{else with ...}}: a nested control that consumes the {{end}}.
        const t = this.nextNonSpace()
        elseList = [this.control(end.chained, t.pos)]
      } else {
        if (end.chained !== undefined) this.fail(`unexpected <${end.chained}> in input`)
        ;[elseList, end] = this.itemList()
        if (end.kind !== 'end') this.fail('expected end; found {{else}}')
      }
    }
    this.vars.length = mark
    return {kind, pos, pipe, list, elseList}
  }

  private templateControl(kind: 'template' | 'block'): Node {
    const nameTok = this.nextNonSpace()
    if (nameTok.type !== 'string' && nameTok.type !== 'rawString') this.unexpected(nameTok, `${kind} clause`)
    const name = this.stringValue(nameTok)
    let pipe: PipeNode | undefined
    if (this.peekNonSpace().type !== 'rightDelim') pipe = this.pipeline(`${kind} clause`, 'rightDelim')
    else this.next()
    if (kind === 'block') {
      const saveVars = this.vars
      this.vars = ['$']
      const [list, end] = this.itemList()
      this.vars = saveVars
      if (end.kind !== 'end') this.fail('unexpected {{else}} in block clause')
      this.defines.set(name, list)
    }
    return {kind: 'template', pos: nameTok.pos, name, nameText: nameTok.value, pipe}
  }

  private stringValue(t: Token): string {
    const s = unquote(t.value)
    return s ?? this.fail('invalid syntax')
  }

  private itemList(): [Node[], ControlEnd] {
    const list: Node[] = []
    while (this.peekNonSpace().type !== 'eof') {
      const n = this.textOrAction()
      if (n.kind === 'end' || n.kind === 'else') return [list, n as ControlEnd]
      list.push(n as Node)
    }
    return this.fail('unexpected EOF')
  }

  // ---- pipelines

  private pipeline(context: string, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace()
    const pipe: PipeNode = {kind: 'pipe', pos: start.pos, decl: [], isAssign: false, cmds: []}
    // Declarations: $x := / $x = / $i, $v := (range only).
    for (;;) {
      const v = this.peekNonSpace()
      if (v.type !== 'variable') break
      const save = this.i
      this.next()
      const after = this.peekNonSpace()
      if (after.type === 'declare' || after.type === 'assign') {
        this.next()
        pipe.isAssign = after.type === 'assign'
        pipe.decl.push(v.value)
        // An assignment to an undeclared variable fails when run, as in Go.
        if (!pipe.isAssign) this.vars.push(v.value)
        break
      }
      if (after.type === 'char' && after.value === ',') {
        this.next()
        pipe.decl.push(v.value)
        this.vars.push(v.value)
        if (context === 'range' && pipe.decl.length < 2) {
          const n = this.peekNonSpace()
          if (n.type === 'variable' || n.type === 'rightDelim' || n.type === 'rightParen') continue
          this.fail('range can only initialize variables')
        }
        this.fail(`too many declarations in ${context}`)
      }
      this.i = save
      break
    }
    for (;;) {
      const t = this.nextNonSpace()
      if (t.type === end) {
        this.checkPipeline(pipe, context)
        return pipe
      }
      switch (t.type) {
        case 'bool':
        case 'charConstant':
        case 'dot':
        case 'field':
        case 'identifier':
        case 'number':
        case 'nil':
        case 'rawString':
        case 'string':
        case 'variable':
        case 'leftParen':
          this.i--
          pipe.cmds.push(this.command())
          break
        default:
          this.unexpected(t, context)
      }
    }
  }

  private checkPipeline(pipe: PipeNode, context: string): void {
    if (pipe.cmds.length === 0) this.fail(`missing value for ${context}`)
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        this.fail(`non executable command in pipeline stage ${i + 2}`)
      }
    })
  }

  private command(): CommandNode {
    const cmd: CommandNode = {kind: 'command', pos: this.peekNonSpace().pos, args: []}
    for (;;) {
      this.peekNonSpace()
      const operand = this.operand()
      if (operand) cmd.args.push(operand)
      const t = this.next()
      if (t.type === 'space') continue
      if (t.type === 'rightDelim' || t.type === 'rightParen') this.i--
      else if (t.type !== 'pipe') this.unexpected(t, 'operand')
      break
    }
    if (cmd.args.length === 0) this.fail('empty command')
    return cmd
  }

  private operand(): Operand | undefined {
    const node = this.term()
    if (!node) return undefined
    if (this.peek().type !== 'field') return node
    const fields: string[] = []
    const pos = this.peek().pos
    while (this.peek().type === 'field') fields.push(this.next().value.slice(1))
    switch (node.kind) {
      case 'field':
      case 'variable':
        // Go positions a chained field at its second part.
        return {...node, pos, ident: [...node.ident, ...fields]}
      case 'bool':
      case 'string':
      case 'number':
      case 'nil':
      case 'dot':
        return this.fail(`unexpected . after term ${JSON.stringify(operandString(node))}`)
      default:
        return {kind: 'chain', pos, node, field: fields}
    }
  }

  private term(): Operand | undefined {
    const t = this.nextNonSpace()
    switch (t.type) {
      case 'identifier':
        if (!this.isFunction(t.value)) this.fail(`function ${JSON.stringify(t.value)} not defined`)
        return {kind: 'identifier', pos: t.pos, name: t.value}
      case 'dot':
        return {kind: 'dot', pos: t.pos}
      case 'nil':
        return {kind: 'nil', pos: t.pos}
      case 'variable': {
        if (!this.vars.includes(t.value)) this.fail(`undefined variable ${JSON.stringify(t.value)}`)
        return {kind: 'variable', pos: t.pos, ident: [t.value]}
      }
      case 'field':
        return {kind: 'field', pos: t.pos, ident: [t.value.slice(1)]}
      case 'bool':
        return {kind: 'bool', pos: t.pos, value: t.value === 'true'}
      case 'number':
        return {kind: 'number', pos: t.pos, text: t.value, value: this.number(t.value)}
      case 'charConstant': {
        const s = unquoteChar(t.value)
        if (s === undefined) this.fail(`malformed character constant: ${t.value}`)
        return {kind: 'number', pos: t.pos, text: t.value, value: s.codePointAt(0)!}
      }
      case 'leftParen':
        return this.pipeline('parenthesized pipeline', 'rightParen')
      case 'string':
      case 'rawString': {
        return {kind: 'string', pos: t.pos, text: t.value, value: this.stringValue(t)}
      }
    }
    this.i--
    return undefined
  }

  private number(text: string): number | bigint {
    if (text.endsWith('i')) this.fail(`complex numbers are not supported: ${text}`)
    const clean = text.replace(/_/g, '')
    const neg = clean.startsWith('-')
    const body = clean.replace(/^[+-]/, '')
    let v: number
    if (/^0[xX][0-9a-fA-F]+$/.test(body) || /^0[bB][01]+$/.test(body) || /^0[oO][0-7]+$/.test(body)) v = Number(body)
    else if (/^0[0-7]+$/.test(body)) v = parseInt(body, 8)
    else if (/^0[xX]/.test(body)) v = parseHexFloat(body)
    else if (/^[0-9]+$/.test(body)) {
      const b = BigInt(body) * (neg ? -1n : 1n)
      if (b > BigInt(Number.MAX_SAFE_INTEGER) || b < BigInt(Number.MIN_SAFE_INTEGER)) return b
      return Number(b)
    } else v = Number(body)
    if (Number.isNaN(v)) this.fail(`illegal number syntax: ${JSON.stringify(text)}`)
    return neg ? -v : v
  }
}

function parseHexFloat(s: string): number {
  const m = /^0[xX]([0-9a-fA-F]*)(?:\.([0-9a-fA-F]*))?(?:[pP]([+-]?[0-9]+))?$/.exec(s)
  if (!m) return NaN
  const int = m[1] ?? ''
  const frac = m[2] ?? ''
  const mant = parseInt(int + frac || '0', 16) / 16 ** frac.length
  return mant * 2 ** Number(m[3] ?? 0)
}

function describeToken(t: Token): string {
  switch (t.type) {
    case 'eof':
      return 'EOF'
    case 'error':
      return t.value
    case 'keyword':
    case 'dot':
    case 'nil':
      return `<${t.value}>`
    case 'leftDelim':
    case 'rightDelim':
    case 'text':
    default:
      return JSON.stringify(t.value.length > 10 ? `${t.value.slice(0, 10)}...` : t.value)
  }
}

const ESCAPES: Record<string, string> = {a: '\x07', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t', v: '\v', '\\': '\\', '"': '"', "'": "'"}

/** Go's strconv.Unquote for a "..." string; undefined when malformed. */
export function unquote(quoted: string): string | undefined {
  if (quoted.startsWith('`')) return quoted.slice(1, -1)
  const body = quoted.slice(1, -1)
  let out = ''
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!
    if (c !== '\\') {
      out += c
      continue
    }
    const e = body[++i]
    if (e === undefined) return undefined
    if (e in ESCAPES) out += ESCAPES[e]
    else if (e === 'x' || e === 'u' || e === 'U') {
      const n = e === 'x' ? 2 : e === 'u' ? 4 : 8
      const hex = body.slice(i + 1, i + 1 + n)
      if (!new RegExp(`^[0-9a-fA-F]{${n}}$`).test(hex)) return undefined
      const cp = parseInt(hex, 16)
      if (e === 'x') out += String.fromCharCode(cp)
      else if (cp > 0x10ffff) return undefined
      else out += String.fromCodePoint(cp)
      i += n
    } else if (/[0-7]/.test(e)) {
      const oct = body.slice(i, i + 3)
      if (!/^[0-7]{3}$/.test(oct)) return undefined
      out += String.fromCharCode(parseInt(oct, 8))
      i += 2
    } else return undefined
  }
  return out
}

function unquoteChar(quoted: string): string | undefined {
  const s = quoted === `'"'` ? '"' : unquote(`"${quoted.slice(1, -1).replace(/"/g, '\\"')}"`)
  if (s === undefined || [...s].length !== 1) return undefined
  return s
}

/** The text of an operand as Go's Node.String() writes it (for error contexts). */
export function operandString(n: Operand | CommandNode): string {
  switch (n.kind) {
    case 'field':
      return n.ident.map((f) => `.${f}`).join('')
    case 'variable':
      return n.ident.join('.')
    case 'chain': {
      const inner = n.node.kind === 'pipe' ? `(${operandString(n.node)})` : operandString(n.node)
      return inner + n.field.map((f) => `.${f}`).join('')
    }
    case 'identifier':
      return n.name
    case 'dot':
      return '.'
    case 'nil':
      return 'nil'
    case 'bool':
      return String(n.value)
    case 'number':
    case 'string':
      return n.text
    case 'command':
      return n.args.map((a) => (a.kind === 'pipe' ? `(${operandString(a)})` : operandString(a))).join(' ')
    case 'pipe': {
      const decl = n.decl.length > 0 ? `${n.decl.join(', ')} ${n.isAssign ? '=' : ':='} ` : ''
      return decl + n.cmds.map(operandString).join(' | ')
    }
  }
}

export {goRune}
