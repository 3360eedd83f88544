/**
 * docker's `--format` for listing and inspect commands, on top of the Go-template engine.
 *
 * Listing commands (ps, images, port, volume ls, ...), docker/cli formatter.Context:
 * - `table` (or no --format): the command's default columns, aligned;
 * - `json`: one JSON object per item and line (`{{json .}}`);
 * - `table TEMPLATE`: a header row (the template run on the command's header map, with docker's
 *   header functions so `{{upper .Names}}` heads its column `NAMES`), then one row per item,
 *   aligned by Go's tabwriter with docker's settings (minimum width 10, padding 3);
 * - any other text: a template run once per item, each followed by a newline.
 * In all of them the two characters `\t` and `\n` typed in a shell stand for a tab and a newline,
 * and the template is trimmed of surrounding spaces, as docker does.
 *
 * Inspect commands (inspect, image inspect, container inspect), docker/cli inspect.Inspector:
 * - no --format or `json`: the items as an indented JSON array (four spaces, fields in their
 *   order, the keys of docker's map fields sorted);
 * - a template: run once per item, each followed by a newline. Plain objects given to
 *   formatInspect are seen as docker's typed structs (an unknown field is an error, as
 *   `docker inspect -f '{{.Nope}}'` is) except under the keys that are maps in docker's schema
 *   (Labels, Ports, Networks, ...), where a missing key prints `<no value>`.
 *
 * Errors: a template that does not parse or fails on an item is a TemplateError (UsageError,
 * exit 125 today) with docker's one line: `template parsing error: template: :1:2: executing ""
 * at <.Nope>: can't evaluate field Nope in type ContainerRow`. Nothing is printed then: the
 * output is built whole before the command writes it.
 *
 * How a command uses it (the rows are classes or goStruct() objects, so unknown fields are
 * errors and methods such as `Label` take arguments):
 *
 *     class PsRow {
 *       constructor(private rec: ContainerRecord) {}
 *       get ID() { return this.rec.id.slice(0, 12) }
 *       get Names() { return this.rec.name }
 *       Label(key: string) { return this.rec.labels[key] ?? '' }
 *       toJSON() { return {ID: this.ID, Names: this.Names, ...} }   // what `--format json` prints
 *     }
 *     const PS_FORMAT: ListingFormat = {
 *       defaultTable: '{{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}',
 *       headers: {ID: 'CONTAINER ID', Image: 'IMAGE', Names: 'NAMES', Label: () => 'LABEL', ...},
 *     }
 *     process.stdout.write(formatOutput(flags.format, rows.map((r) => new PsRow(r)), PS_FORMAT))
 */
import {TemplateError} from '../errors.js'
import {goJson} from './go-fmt.js'
import {GoTemplate} from './go-template.js'
import {goView} from './go-values.js'
import {DOCKER_TABWRITER, tabwrite} from './tabwriter.js'
import {HEADER_FUNCS} from './template-funcs.js'

export interface ListingFormat {
  /** The command's default columns (what `table` means), without the `table` prefix. */
  defaultTable: string
  /**
   * The header row's names: template field → column header (`ID` → `CONTAINER ID`). A function
   * heads a method-like field (`{{.Label "k"}}`). A field missing here heads its column
   * `<no value>`, as in docker.
   */
  headers: Record<string, string | ((...args: unknown[]) => string)>
}

/** The template a --format value stands for, and whether it is a table. */
export function resolveFormat(format: string | undefined, spec: ListingFormat): {template: string; table: boolean} {
  let f = format ?? ''
  if (f === '' || f === 'table') f = `table ${spec.defaultTable}`
  let table = false
  if (f === 'json') f = '{{json .}}'
  else if (f.startsWith('table')) {
    table = true
    f = f.slice('table'.length)
  }
  f = f.replace(/^ +| +$/g, '').replace(/\\t/g, '\t').replace(/\\n/g, '\n')
  return {template: f, table}
}

/** The text a listing command prints for `--format` (empty when there is nothing to print). */
export function formatOutput(format: string | undefined, items: readonly unknown[], spec: ListingFormat): string {
  const {template, table} = resolveFormat(format, spec)
  const fields = plainFields(template)
  let tmpl: GoTemplate | undefined
  const engine = () => (tmpl ??= parseForOutput(template))
  // anything but plain fields is parsed now, rows or not: a bad template is an error even with nothing to list
  if (!fields) engine()
  // the default tables: property reads instead of the engine, the same text (else the engine)
  const fast = fields && fillRows(fields, items)
  const rows = fast ?? items.map((item) => `${run(engine(), item)}\n`).join('')
  if (!table) return rows
  let header: string | undefined = fields && fillRows(fields, [spec.headers])
  if (header === undefined) {
    try {
      header = `${engine().withFuncs(HEADER_FUNCS).execute(spec.headers)}\n`
    } catch {
      // docker ignores a header that cannot be made; its column stays unnamed.
      header = '\n'
    }
  }
  return tabwrite(`${header}${rows}`, DOCKER_TABWRITER)
}

/**
 * A template made of literal text and plain field references only (`{{.ID}}\t{{.Names}}`): the
 * literal pieces and the field names in between (pieces.length = fields.length + 1); undefined
 * for anything else (functions, pipelines, trim markers, nested fields, actions in the text).
 */
export function plainFields(template: string): {pieces: string[]; fields: string[]} | undefined {
  const parts = template.split(/\{\{\.([A-Za-z_][A-Za-z0-9_]*)\}\}/)
  const pieces = parts.filter((_, i) => i % 2 === 0)
  if (pieces.some((p) => p.includes('{{'))) return undefined
  return {pieces, fields: parts.filter((_, i) => i % 2 === 1)}
}

/**
 * The rows of a plain-field template, one line each, when every field of every item is a string
 * (what the engine prints as is); undefined otherwise, so the engine decides (its errors, Go's
 * formatting of other values).
 */
function fillRows({pieces, fields}: {pieces: string[]; fields: string[]}, items: readonly unknown[]): string | undefined {
  let out = ''
  for (const item of items) {
    if (typeof item !== 'object' || item === null || Array.isArray(item)) return undefined
    let line = pieces[0]!
    for (let i = 0; i < fields.length; i++) {
      const v: unknown = (item as Record<string, unknown>)[fields[i]!]
      if (typeof v !== 'string') return undefined
      line += v + pieces[i + 1]!
    }
    out += `${line}\n`
  }
  return out
}

/**
 * The keys whose values are maps in docker's inspect schema (container and image): Go maps in
 * docker's types, so a missing key there prints `<no value>` instead of failing. `A.B` names the
 * key B inside an object under key A.
 */
export const DOCKER_MAP_FIELDS: ReadonlySet<string> = new Set([
  'Labels',
  'ExposedPorts',
  'Volumes',
  'Ports',
  'PortBindings',
  'Networks',
  'Sysctls',
  'Tmpfs',
  'StorageOpt',
  'Data',
  'DriverOpts',
  'Options',
  'Annotations',
  'LogConfig.Config',
])

/** The text an inspect command prints for `-f/--format`. */
export function formatInspect(format: string | undefined, items: readonly unknown[], mapFields: ReadonlySet<string> = DOCKER_MAP_FIELDS): string {
  // docker indents the API's JSON: struct fields in their order, map keys sorted.
  if (format === undefined || format === '' || format === 'json') return `${indentJson(goJson(goView(items, mapFields)))}\n`
  const tmpl = parseForOutput(format)
  return items.map((item) => `${run(tmpl, goView(item, mapFields))}\n`).join('')
}

function parseForOutput(template: string): GoTemplate {
  try {
    return GoTemplate.parse(template)
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template parsing error: ${e.message}`)
    throw e
  }
}

function run(tmpl: GoTemplate, item: unknown): string {
  try {
    return tmpl.execute(item)
  } catch (e) {
    if (e instanceof TemplateError) throw new TemplateError(`template parsing error: ${e.message}`)
    throw e
  }
}

/** Go's json.Indent with four spaces, on compact JSON (key order kept as written). */
function indentJson(compact: string): string {
  let out = ''
  let depth = 0
  let inString = false
  const nl = () => `\n${'    '.repeat(depth)}`
  for (let i = 0; i < compact.length; i++) {
    const c = compact[i]!
    if (inString) {
      out += c
      if (c === '\\') out += compact[++i] ?? ''
      else if (c === '"') inString = false
      continue
    }
    switch (c) {
      case '"':
        inString = true
        out += c
        break
      case '{':
      case '[': {
        const close = c === '{' ? '}' : ']'
        if (compact[i + 1] === close) {
          out += c + close
          i++
          break
        }
        depth++
        out += c + nl()
        break
      }
      case '}':
      case ']':
        depth--
        out += nl() + c
        break
      case ',':
        out += `,${nl()}`
        break
      case ':':
        out += ': '
        break
      default:
        out += c
    }
  }
  return out
}
