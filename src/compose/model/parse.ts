/**
 * YAML text → plain document, with anchors, aliases and merge keys (`<<: *base`), and compose's
 * two override tags: `!reset` (the attribute goes back to its default) and `!override` (the
 * value replaces the previous file's instead of merging with it). A syntax error is one line:
 * `FILE: line L, column C: PROBLEM`.
 */
import {isNode, parseAllDocuments, Scalar, visit, type ScalarTag, type Tags} from 'yaml'
import {ComposeFileError} from '../../errors.js'

/** A value tagged `!reset` or `!override` in an override file; merge.ts applies and removes them. */
export class Tagged {
  readonly tag: 'reset' | 'override'
  readonly value: unknown
  constructor(tag: 'reset' | 'override', value: unknown) {
    this.tag = tag
    this.value = value
  }
}

/**
 * `0755` is octal, as Go's YAML decoder (and so docker compose) reads it: file modes
 * (`mode: 0440`, tmpfs `mode: 01777`). YAML 1.2 alone would read 755.
 */
const GO_OCTAL: ScalarTag = {
  tag: 'tag:yaml.org,2002:int',
  default: true,
  test: /^0[0-7]+$/,
  resolve: (s: string) => parseInt(s, 8),
}
const tags = (defaults: Tags): Tags => [GO_OCTAL, ...defaults]

/** Parses one compose file's text; `file` names it in errors. An empty file is an empty mapping. */
export function parseComposeYaml(text: string, file: string): Record<string, unknown> {
  const docs = parseComposeYamlDocuments(text, file)
  if (docs.length > 1) throw new ComposeFileError(file, [], 'holds several YAML documents where one is expected')
  return docs[0] ?? {}
}

/**
 * Every YAML document of a file (`---` separated; docker compose merges them in order, as -f
 * files). An empty document is an empty mapping.
 */
export function parseComposeYamlDocuments(text: string, file: string): Array<Record<string, unknown>> {
  const docs = parseAllDocuments(text, {merge: true, uniqueKeys: true, prettyErrors: true, version: '1.2', customTags: tags})
  const list = Array.isArray(docs) ? docs : [docs]
  const out: Array<Record<string, unknown>> = []
  for (const doc of list) {
    const err = doc.errors[0]
    if (err) {
      const pos = err.linePos?.[0]
      const where = pos ? `line ${pos.line}, column ${pos.col}: ` : ''
      throw new ComposeFileError(file, [], `${where}${firstLine(err.message)}`)
    }
    // `!reset` / `!override` nodes become Tagged values (their content as plain values).
    visit(doc, (_key, node) => {
      if (!isNode(node) || (node.tag !== '!reset' && node.tag !== '!override')) return undefined
      const tag = node.tag === '!reset' ? 'reset' : 'override'
      return new Scalar(new Tagged(tag, node.toJS(doc, {maxAliasCount: 1000})))
    })
    const value: unknown = doc.toJS({maxAliasCount: 1000})
    if (value === null || value === undefined) {
      out.push({})
      continue
    }
    if (typeof value !== 'object' || Array.isArray(value) || value instanceof Tagged) throw new ComposeFileError(file, [], 'top-level object must be a mapping')
    out.push(value as Record<string, unknown>)
  }
  return out
}

function firstLine(message: string): string {
  return (message.split('\n')[0] ?? message).replace(/ at line \d+, column \d+:?$/, '').trim()
}
