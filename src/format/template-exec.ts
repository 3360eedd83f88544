/**
 * The executor of the Go-template engine: walks a parsed tree (template-parser.ts) over a data
 * value with Go's text/template/exec.go semantics (dot, `$`, variables and their scopes, field
 * chains, methods, pipelines, if/with/range/else, break/continue, {{template}}), and words its
 * errors the way Go does: `template: :1:2: executing "" at <.Nope>: can't evaluate field Nope
 * in type Row`. How JavaScript values map to Go's is in go-values.ts.
 */
import {formatValue} from './go-fmt.js'
import {kindOf, mapEntries, truth, typeName} from './go-values.js'
import {FuncError, type FuncMap, type FuncSpec, type Param} from './template-funcs.js'
import {operandString, type CommandNode, type ControlNode, type Node, type Operand, type PipeNode, type Tree} from './template-parser.js'

export class TemplateExecError extends Error {}

/** "No final value" (Go's missingVal): distinct from a missing map key (undefined). */
const MISSING: unique symbol = Symbol('missing')
type Final = unknown
const BREAK = Symbol('break')
const CONTINUE = Symbol('continue')
const MAX_DEPTH = 1000

interface Variable {
  name: string
  value: unknown
}

/** Go's missingkey option: `default` prints `<no value>`, `error` stops at a missing map key. */
export type MissingKey = 'default' | 'error'

export function execute(tree: Tree, src: string, name: string, funcs: FuncMap, data: unknown, missingKey: MissingKey = 'default'): string {
  const s = new State(tree, src, name, funcs, missingKey)
  s.vars.push({name: '$', value: data})
  s.walkList(data, tree.root)
  return s.out.join('')
}

class State {
  readonly out: string[] = []
  vars: Variable[] = []
  private at: {pos: number; text: string} = {pos: 0, text: ''}
  private depth = 0

  constructor(
    private readonly tree: Tree,
    private readonly src: string,
    private readonly name: string,
    private readonly funcs: FuncMap,
    private readonly missingKey: MissingKey,
  ) {}

  // ---- errors

  private setAt(node: Operand | CommandNode | Node): void {
    let text: string
    switch (node.kind) {
      case 'text':
      case 'if':
      case 'with':
      case 'range':
      case 'break':
      case 'continue':
        text = node.kind
        break
      case 'template':
        text = `{{template ${node.nameText}${node.pipe ? ` ${operandString(node.pipe)}` : ''}}}`
        break
      case 'action':
        text = `{{${operandString(node.pipe)}}}`
        break
      default:
        text = operandString(node)
    }
    this.at = {pos: node.pos, text}
  }

  private fail(msg: string): never {
    const before = this.src.slice(0, this.at.pos)
    const nl = before.lastIndexOf('\n')
    const line = before.split('\n').length
    const col = Buffer.byteLength(nl < 0 ? before : before.slice(nl + 1), 'utf8')
    const chars = [...this.at.text]
    const context = chars.length > 20 ? `${chars.slice(0, 20).join('')}...` : this.at.text
    throw new TemplateExecError(`template: ${this.name}:${line}:${col}: executing ${JSON.stringify(this.name)} at <${context}>: ${msg}`)
  }

  // ---- walking

  walkList(dot: unknown, list: Node[]): void {
    for (const n of list) this.walk(dot, n)
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.kind) {
      case 'text':
        this.out.push(node.text)
        return
      case 'action': {
        const v = this.evalPipeline(dot, node.pipe)
        if (node.pipe.decl.length === 0) this.printValue(node, v)
        return
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length
        const v = this.evalPipeline(dot, node.pipe)
        if (truth(v)) this.walkList(node.kind === 'with' ? v : dot, node.list)
        else if (node.elseList) this.walkList(dot, node.elseList)
        this.vars.length = mark
        return
      }
      case 'range':
        this.walkRange(dot, node)
        return
      case 'break':
        throw BREAK
      case 'continue':
        throw CONTINUE
      case 'template': {
        this.setAt(node)
        const list = this.tree.defines.get(node.name)
        if (!list) this.fail(`template ${JSON.stringify(node.name)} not defined`)
        if (this.depth >= MAX_DEPTH) this.fail(`exceeded maximum template depth (${MAX_DEPTH})`)
        const newDot = node.pipe ? this.evalPipeline(dot, node.pipe) : undefined
        const saved = this.vars
        this.vars = [{name: '$', value: newDot}]
        this.depth++
        try {
          this.walkList(newDot, list)
        } finally {
          this.depth--
          this.vars = saved
        }
        return
      }
    }
  }

  private walkRange(dot: unknown, node: ControlNode): void {
    this.setAt(node)
    const mark = this.vars.length
    const val = this.evalPipeline(dot, node.pipe)
    const decl = node.pipe.decl
    let ran = false
    const one = (index: unknown, elem: unknown): boolean => {
      ran = true
      if (decl.length > 0) {
        if (node.pipe.isAssign) {
          if (decl.length > 1) {
            this.setVar(decl[0]!, index)
            this.setVar(decl[1]!, elem)
          } else this.setVar(decl[0]!, elem)
        } else {
          this.vars[this.vars.length - 1]!.value = elem
          if (decl.length > 1) this.vars[this.vars.length - 2]!.value = index
        }
      }
      const inner = this.vars.length
      try {
        this.walkList(elem, node.list)
      } catch (e) {
        if (e === BREAK) return false
        if (e !== CONTINUE) throw e
      } finally {
        this.vars.length = inner
      }
      return true
    }
    switch (kindOf(val)) {
      case 'slice': {
        const a = val as ArrayLike<unknown>
        for (let i = 0; i < a.length; i++) if (!one(i, a[i])) break
        break
      }
      case 'map':
        for (const [k, v] of mapEntries(val as object)) if (!one(k, v)) break
        break
      case 'int': {
        if (decl.length > 1) this.fail(`can't use ${formatValue(val)} to iterate over more than one variable`)
        const n = Number(val)
        for (let i = 0; i < n; i++) if (!one(i, i)) break
        break
      }
      case 'invalid':
      case 'nil':
        break
      case 'func': {
        this.fail(`range can't iterate over ${formatValue(val)}`)
        break
      }
      default:
        this.fail(`range can't iterate over ${formatValue(val)}`)
    }
    if (!ran && node.elseList) this.walkList(dot, node.elseList)
    this.vars.length = mark
  }

  private printValue(node: Node, v: unknown): void {
    this.setAt(node)
    if (v === undefined) {
      this.out.push('<no value>')
      return
    }
    if (typeof v === 'function') this.fail(`can't print ${this.at.text} of type ${typeName(v)}`)
    this.out.push(formatValue(v))
  }

  // ---- variables

  private setVar(name: string, value: unknown): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value
        return
      }
    }
    this.fail(`undefined variable: ${name}`)
  }

  private varValue(name: string): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value
    return this.fail(`undefined variable: ${name}`)
  }

  // ---- pipelines and commands

  private evalPipeline(dot: unknown, pipe: PipeNode): unknown {
    this.setAt(pipe)
    let value: Final = MISSING
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value)
    for (const name of pipe.decl) {
      if (pipe.isAssign) this.setVar(name, value)
      else this.vars.push({name, value})
    }
    return value
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!
    switch (first.kind) {
      case 'field':
        return this.evalFieldChain(dot, dot, first, first.ident, cmd.args, final)
      case 'chain': {
        const base = this.evalArg(dot, first.node, 'raw')
        return this.evalFieldChain(dot, base, first, first.field, cmd.args, final)
      }
      case 'variable': {
        this.setAt(first)
        const v = this.varValue(first.ident[0]!)
        if (first.ident.length === 1) {
          this.notAFunction(cmd.args, final)
          return v
        }
        return this.evalFieldChain(dot, v, first, first.ident.slice(1), cmd.args, final)
      }
      case 'identifier':
        return this.evalFunction(dot, first, cmd, cmd.args, final)
      case 'pipe':
        this.notAFunction(cmd.args, final)
        return this.evalPipeline(dot, first)
    }
    this.setAt(first)
    this.notAFunction(cmd.args, final)
    switch (first.kind) {
      case 'bool':
        return first.value
      case 'dot':
        return dot
      case 'nil':
        return this.fail('nil is not a command')
      case 'number':
        return first.value
      case 'string':
        return first.value
    }
  }

  private notAFunction(args: Operand[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.fail(`can't give argument to non-function ${operandString(args[0]!)}`)
  }

  private evalFieldChain(dot: unknown, receiver: unknown, node: Operand, ident: string[], args: Operand[], final: Final): unknown {
    let r = receiver
    for (let i = 0; i < ident.length - 1; i++) r = this.evalField(dot, ident[i]!, node, [], MISSING, r)
    return this.evalField(dot, ident[ident.length - 1]!, node, args, final, r)
  }

  private evalField(dot: unknown, name: string, node: Operand, args: Operand[], final: Final, receiver: unknown): unknown {
    this.setAt(node)
    if (receiver === undefined) {
      if (this.missingKey === 'error') this.fail(`nil data; no entry for key ${JSON.stringify(name)}`)
      return undefined
    }
    if (receiver === null) return this.fail(`nil pointer evaluating interface {}.${name}`)
    const kind = kindOf(receiver)
    const hasArgs = args.length > 1 || final !== MISSING
    if (kind === 'struct' && !(receiver instanceof Date)) {
      if (!hasMember(receiver as object, name)) return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`)
      const v = (receiver as Record<string, unknown>)[name]
      if (typeof v === 'function') return this.evalCall(dot, v.bind(receiver) as (...a: unknown[]) => unknown, undefined, node, name, args, final)
      if (hasArgs) this.fail(`${name} has arguments but cannot be invoked as function`)
      return v
    }
    if (kind === 'map') {
      const m = receiver as object
      const found = m instanceof Map ? m.has(name) : Object.hasOwn(m, name)
      const v = !found ? undefined : m instanceof Map ? (m as Map<unknown, unknown>).get(name) : (m as Record<string, unknown>)[name]
      if (!found && !hasArgs && this.missingKey === 'error') this.fail(`map has no entry for key ${JSON.stringify(name)}`)
      if (typeof v === 'function') return this.evalCall(dot, v.bind(receiver) as (...a: unknown[]) => unknown, undefined, node, name, args, final)
      if (hasArgs) this.fail(`${name} is not a method but has arguments`)
      return v
    }
    return this.fail(`can't evaluate field ${name} in type ${typeName(receiver)}`)
  }

  private evalFunction(dot: unknown, node: Extract<Operand, {kind: 'identifier'}>, cmd: Operand | CommandNode, args: Operand[], final: Final): unknown {
    this.setAt(node)
    const spec = this.funcs[node.name]
    if (!spec) return this.fail(`${JSON.stringify(node.name)} is not a defined function`)
    return this.evalCall(dot, spec.fn as (...a: unknown[]) => unknown, spec, cmd, node.name, args, final, node)
  }

  /** Calls a function (spec given: a template function with checked parameters) or a method. */
  private evalCall(
    dot: unknown,
    fn: (...a: unknown[]) => unknown,
    spec: FuncSpec | undefined,
    node: Operand | CommandNode,
    name: string,
    args: Operand[],
    final: Final,
    nameNode: Operand = args[0]!,
  ): unknown {
    const argNodes = args.slice(1)
    const total = argNodes.length + (final === MISSING ? 0 : 1)
    if (spec) {
      const fixed = spec.params.length
      if (spec.variadic ? total < fixed : total !== fixed) {
        this.setAt(nameNode)
        this.fail(`wrong number of args for ${name}: want ${spec.variadic ? 'at least ' : ''}${fixed} got ${total}`)
      }
    }
    const paramAt = (i: number): Param => (spec ? (spec.params[i] ?? spec.variadic ?? 'raw') : 'raw')
    // and/or stop evaluating their arguments once the result is known (Go >= 1.18).
    if (spec && this.funcs[name] === spec && (name === 'and' || name === 'or')) {
      let v: unknown
      for (let i = 0; i < total; i++) {
        v = i < argNodes.length ? this.evalArg(dot, argNodes[i]!, 'raw') : final
        if (truth(v) === (name === 'or')) return v
      }
      return v
    }
    const argv: unknown[] = argNodes.map((a, i) => this.evalArg(dot, a, paramAt(i)))
    if (final !== MISSING) {
      this.setAt(node)
      argv.push(this.check(final, paramAt(argNodes.length)))
    }
    this.setAt(node)
    try {
      return fn(...argv)
    } catch (e) {
      if (e instanceof TemplateExecError) throw e
      const msg = e instanceof Error ? e.message : String(e)
      if (e instanceof FuncError && spec) return this.fail(`error calling ${name}: ${msg}`)
      return this.fail(`error calling ${name}: ${msg}`)
    }
  }

  private evalArg(dot: unknown, n: Operand, param: Param): unknown {
    this.setAt(n)
    let v: unknown
    switch (n.kind) {
      case 'dot':
        v = dot
        break
      case 'nil':
        if (param === 'raw' || param === 'any') return null
        return this.fail(`cannot assign nil to ${goParam(param)}`)
      case 'field':
        v = this.evalFieldChain(dot, dot, n, n.ident, [n], MISSING)
        break
      case 'variable':
        v = this.varValue(n.ident[0]!)
        if (n.ident.length > 1) v = this.evalFieldChain(dot, v, n, n.ident.slice(1), [n], MISSING)
        break
      case 'pipe':
        v = this.evalPipeline(dot, n)
        break
      case 'identifier':
        v = this.evalFunction(dot, n, n, [n], MISSING)
        break
      case 'chain':
        v = this.evalFieldChain(dot, this.evalArg(dot, n.node, 'raw'), n, n.field, [n], MISSING)
        break
      case 'bool':
      case 'number':
      case 'string': {
        // A literal of the wrong type is refused before the call, as Go does.
        const isFloat = n.kind === 'number' && typeof n.value === 'number' && !Number.isInteger(n.value)
        const fits =
          (param !== 'string' || n.kind === 'string') && (param !== 'int' || (n.kind === 'number' && !isFloat)) && (param !== 'bool' || n.kind === 'bool')
        if (param === 'strings') this.fail(`can't handle ${n.kind === 'bool' ? String(n.value) : n.text} for arg of type []string`)
        if (!fits) this.fail(`expected ${param === 'int' ? 'integer' : param}; found ${n.kind === 'bool' ? String(n.value) : n.text}`)
        v = n.value
        break
      }
    }
    this.setAt(n)
    return this.check(v, param)
  }

  /** Go's validateType: the value must fit the parameter. */
  private check(v: unknown, param: Param): unknown {
    if (param === 'raw') return v
    if (param === 'any') return v === undefined ? null : v
    // A missing value given for a slice parameter is Go's nil slice.
    if (param === 'strings' && (v === undefined || v === null)) return []
    if (v === undefined) return this.fail(`invalid value; expected ${goParam(param)}`)
    const k = kindOf(v)
    const ok =
      (param === 'string' && k === 'string') ||
      (param === 'int' && k === 'int') ||
      (param === 'bool' && k === 'bool') ||
      (param === 'strings' && k === 'slice' && Array.from(v as ArrayLike<unknown>).every((e) => typeof e === 'string'))
    if (!ok) this.fail(`wrong type for value; expected ${goParam(param)}; got ${typeName(v)}`)
    return param === 'int' ? Number(v) : v
  }
}

function goParam(p: Param): string {
  return p === 'strings' ? '[]string' : p === 'any' || p === 'raw' ? 'interface {}' : p
}

/** A struct's member: an own property, or one of its classes' (never Object.prototype's). */
function hasMember(o: object, name: string): boolean {
  for (let p: object | null = o; p && p !== Object.prototype; p = Object.getPrototypeOf(p) as object | null) {
    if (Object.hasOwn(p, name)) return name !== 'constructor'
  }
  return false
}
