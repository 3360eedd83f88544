/**
 * Checks one compose document against the Compose Specification's JSON schema (vendored in
 * schema/compose-spec.json) and turns the first problem into one line naming the file, the path
 * in the document and what is wrong: `compose.yaml: services.web.ports[0]: must be a number, a
 * string or an object`.
 */
import {Ajv, type ErrorObject, type ValidateFunction} from 'ajv'
import {ComposeFileError} from '../../errors.js'
import schema from './schema/compose-spec.json' with {type: 'json'}

let compiled: ValidateFunction | undefined

function validator(): ValidateFunction {
  // The schema says `$schema: https://json-schema.org/draft-07/schema`, which ajv does not know by
  // that spelling: it is draft-07, ajv's default dialect, so the meta-schema check is skipped.
  compiled ??= new Ajv({allErrors: false, strict: false, validateSchema: false}).compile(schema)
  return compiled
}

/** Throws a ComposeFileError for the first schema violation of `doc` (already interpolated). */
export function validateComposeDocument(doc: unknown, file: string): void {
  const validate = validator()
  if (validate(doc)) return
  const {path, problem} = describeSchemaErrors(validate.errors ?? [], doc)
  throw new ComposeFileError(file, path, problem)
}

/**
 * The most telling problem among ajv's errors: the deepest one (a oneOf's branches fail at
 * different depths; the branch that went deepest is the one the author meant), and at that depth
 * all the types the value could have had.
 */
export function describeSchemaErrors(errors: readonly ErrorObject[], doc: unknown): {path: string[]; problem: string} {
  if (errors.length === 0) return {path: [], problem: 'does not match the compose specification'}
  const depth = (e: ErrorObject) => (e.instancePath === '' ? 0 : e.instancePath.split('/').length - 1)
  const maxDepth = Math.max(...errors.map(depth))
  const deepest = errors.filter((e) => depth(e) === maxDepth)
  const instancePath = deepest[0]!.instancePath
  const path = pathSegments(instancePath, doc)
  const extra = deepest.find((e) => e.keyword === 'additionalProperties')
  if (extra) return {path, problem: `additional property "${String(extra.params.additionalProperty)}" is not allowed`}
  const required = deepest.find((e) => e.keyword === 'required')
  if (required) return {path, problem: `missing required property "${String(required.params.missingProperty)}"`}
  const enumError = deepest.find((e) => e.keyword === 'enum')
  if (enumError) return {path, problem: `must be one of ${(enumError.params.allowedValues as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`}
  const types = [...new Set(deepest.filter((e) => e.keyword === 'type').flatMap((e) => String(e.params.type).split(',')))]
  if (types.length > 0) return {path, problem: `must be ${orList(types.map(article))}`}
  const specific = deepest.find((e) => e.keyword !== 'oneOf' && e.keyword !== 'anyOf' && e.keyword !== 'if') ?? deepest[0]!
  if (specific.keyword === 'pattern') return {path, problem: `must match the pattern ${String(specific.params.pattern)}`}
  if (specific.keyword === 'oneOf' && Array.isArray(specific.params.passingSchemas)) return {path, problem: 'matches more than one of its allowed forms'}
  return {path, problem: specific.message ?? 'is invalid'}
}

function article(type: string): string {
  if (type === 'null') return 'null'
  if (type === 'integer' || type === 'array' || type === 'object') return type === 'integer' ? 'an integer' : `an ${type}`
  return `a ${type}`
}

function orList(items: string[]): string {
  return items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} or ${items.at(-1)}`
}

/** `/services/web/ports/0` → ['services', 'web', 'ports', '[0]'] (indexes where the document has a list). */
function pathSegments(instancePath: string, doc: unknown): string[] {
  if (instancePath === '') return []
  const out: string[] = []
  let node: unknown = doc
  for (const raw of instancePath.slice(1).split('/')) {
    const key = raw.replace(/~1/g, '/').replace(/~0/g, '~')
    if (Array.isArray(node)) {
      out.push(`[${key}]`)
      node = node[Number(key)]
    } else {
      out.push(key)
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[key] : undefined
    }
  }
  return out
}
