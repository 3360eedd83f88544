/**
 * Go's text/template for `--format`, as docker uses it: `{{.Field}}`, `.A.B.C`, `$` and
 * variables, pipelines, if/else if/else, range (with `$i, $v :=`, else, break, continue), with,
 * define/template/block, trim markers, comments, literals, parentheses; Go's builtin functions
 * and docker's (json, join, split, lower, upper, title, truncate, pad). npm has no maintained
 * JavaScript implementation, so this is one small module family:
 *
 *   template-lexer.ts → template-parser.ts → template-exec.ts, with template-funcs.ts (functions),
 *   go-fmt.ts (Go's fmt and encoding/json) and go-values.ts (how JS values map to Go's: structs,
 *   maps, slices, nil, missing values; read its header for the rules).
 *
 * Errors are TemplateError (a UsageError) with Go's message: `template: :1: function "foo" not
 * defined` when parsing, `template: :1:2: executing "" at <.Nope>: can't evaluate field Nope in
 * type Row` when executing.
 *
 *     const t = GoTemplate.parse('{{range .Mounts}}{{.Source}} {{end}}')
 *     t.execute(inspectObject) // "/data /logs "
 */
import {TemplateError} from '../errors.js'
import {BUILTINS, DOCKER_FUNCS, type FuncMap, type FuncSpec, type TemplateFunction} from './template-funcs.js'
import {execute, type MissingKey, TemplateExecError} from './template-exec.js'
import {parse, TemplateParseError, type Tree} from './template-parser.js'

export {goStruct} from './go-values.js'
export type {TemplateFunction} from './template-funcs.js'
export type {MissingKey} from './template-exec.js'

export interface TemplateOptions {
  /** The template's name in messages (docker's is empty: `template: :1: ...`). */
  name?: string
  /** Extra functions, called with the argument values as they are. */
  funcs?: Record<string, TemplateFunction>
  /** Go's Option("missingkey=..."): `default` prints `<no value>`, `error` fails. */
  missingKey?: MissingKey
}

export class GoTemplate {
  private constructor(
    readonly source: string,
    private readonly tree: Tree,
    private readonly name: string,
    private readonly funcs: FuncMap,
    private readonly missingKey: MissingKey,
  ) {}

  /** Parses `source` with Go's builtins, docker's functions and `options.funcs`. */
  static parse(source: string, options: TemplateOptions = {}): GoTemplate {
    const funcs: FuncMap = {...BUILTINS, ...DOCKER_FUNCS}
    for (const [k, fn] of Object.entries(options.funcs ?? {})) funcs[k] = userFunc(fn)
    const name = options.name ?? ''
    try {
      return new GoTemplate(source, parse(source, (f) => f in funcs, name), name, funcs, options.missingKey ?? 'default')
    } catch (e) {
      if (e instanceof TemplateParseError) throw new TemplateError(e.message)
      throw e
    }
  }

  /** The same template with some functions replaced (docker's header functions for `table`). */
  withFuncs(replace: FuncMap): GoTemplate {
    return new GoTemplate(this.source, this.tree, this.name, {...this.funcs, ...replace}, this.missingKey)
  }

  /** The same template with another missingkey option. */
  withMissingKey(missingKey: MissingKey): GoTemplate {
    return new GoTemplate(this.source, this.tree, this.name, this.funcs, missingKey)
  }

  /** Runs the template on `data`; the text it writes. */
  execute(data: unknown): string {
    try {
      return execute(this.tree, this.source, this.name, this.funcs, data, this.missingKey)
    } catch (e) {
      if (e instanceof TemplateExecError) throw new TemplateError(e.message)
      if (e instanceof RangeError) throw new TemplateError(`template: ${this.name}: ${e.message}`)
      throw e
    }
  }
}

function userFunc(fn: TemplateFunction): FuncSpec {
  return {fn: fn as FuncSpec['fn'], params: [], variadic: 'raw'}
}
