/**
 * One compose file → its canonical document: read (or stdin), parse, interpolate, validate
 * against the schema (errors name this file), bring to canonical shape, then bring in what it
 * refers to: `include:` (other compose files, each with its own project directory, loaded the
 * same way; a resource both define is an error, as in docker compose) and `extends:` (a service
 * of this file or of another file as the base the service is merged onto, with the merge rules
 * of -f files). Relative paths of an included or extended file resolve against its own directory.
 */
import {readFile} from 'node:fs/promises'
import {dirname, relative, resolve} from 'node:path'
import {ComposeFileError} from '../../errors.js'
import {canonicalDocument, type Raw} from './canonical.js'
import {readEnvFile} from './env-file.js'
import {STDIN_FILE} from './find.js'
import {interpolateDocument, type Lookup} from './interpolate.js'
import {mergeDocuments, mergeService, untag} from './merge.js'
import {parseComposeYamlDocuments} from './parse.js'
import {validateComposeDocument} from './validate.js'

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v)

export interface DocumentReader {
  /** Where relative -f paths resolve and what file names in messages are relative to. */
  workingDir: string
  home?: string
  lookup: Lookup
  /** false: no interpolation (config --no-interpolate). */
  interpolate: boolean
  warn: (message: string) => void
  stdin: () => Promise<string>
  /** Variables already reported as unset (each is reported once). */
  unset: Set<string>
}

/** A file's name in messages: relative to the working directory when it is below it. */
export function shownName(file: string, workingDir: string): string {
  if (file === STDIN_FILE) return 'stdin'
  const rel = relative(workingDir, file)
  return rel && !rel.startsWith('..') ? rel : file
}

/** Read, parse, interpolate, validate each YAML document of a file (tags kept), with the file's shown name. */
async function readValidated(file: string, r: DocumentReader): Promise<{docs: Raw[]; name: string}> {
  const name = shownName(file, r.workingDir)
  let text: string
  try {
    text = file === STDIN_FILE ? await r.stdin() : await readFile(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new ComposeFileError(name, [], code === 'ENOENT' ? 'no such file or directory' : (err as Error).message)
  }
  const docs: Raw[] = []
  for (let doc of parseComposeYamlDocuments(text, name)) {
    if (r.interpolate) {
      const onUnset = (v: string) => {
        if (!r.unset.has(v)) r.warn(`The "${v}" variable is not set. Defaulting to a blank string.`)
        r.unset.add(v)
      }
      doc = interpolateDocument(doc, {lookup: r.lookup, onUnset}, name) as Raw
    }
    validateComposeDocument(untag(doc), name)
    if (doc.version !== undefined) r.warn(`${name}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`)
    docs.push(doc)
  }
  return {docs, name}
}

/** One file as a canonical document, its includes and extends resolved. `stack`: the files being read (cycles). */
export async function readComposeDocument(file: string, projectDir: string, r: DocumentReader, stack: readonly string[] = []): Promise<Raw> {
  const {docs, name} = await readValidated(file, r)
  if (stack.includes(file)) throw new ComposeFileError(name, [], `include or extends cycle: ${[...stack, file].map((f) => shownName(f, r.workingDir)).join(' -> ')}`)
  const here = file === STDIN_FILE ? r.workingDir : dirname(file)
  // Several YAML documents in one file merge in order, as -f files do (their !reset/!override
  // then apply within the file). One document keeps its tags for the merge with the previous files.
  const canonicalDocs = docs.map((d) => canonicalDocument(d, {projectDir, file: name, home: r.home}))
  let canonical = canonicalDocs.length === 1 ? canonicalDocs[0]! : mergeDocuments(canonicalDocs)
  await resolveExtends(canonical, file, name, here, r, [...stack, file])
  const include = docs.flatMap((d) => (Array.isArray(d.include) ? d.include : []))
  if (include.length > 0) canonical = await applyIncludes(canonical, include, name, here, r, [...stack, file])
  delete canonical.include
  return canonical
}

/** Replaces each service's `extends` by the base service merged with the service's own attributes. */
async function resolveExtends(doc: Raw, file: string, name: string, here: string, r: DocumentReader, stack: readonly string[]): Promise<void> {
  const services = isMap(doc.services) ? doc.services : {}
  const resolved = new Map<string, Raw>()
  const resolveService = async (svcName: string, chain: readonly string[]): Promise<Raw> => {
    const done = resolved.get(svcName)
    if (done) return done
    const svc = services[svcName]
    if (!isMap(svc)) return {}
    const ext = svc.extends
    if (ext === undefined) return svc
    const {extends: _extends, ...own} = svc
    const ref: Raw = typeof ext === 'string' ? {service: ext} : isMap(ext) ? ext : {}
    const baseName = String(ref.service)
    let base: Raw
    if (typeof ref.file === 'string') {
      const baseFile = resolve(here, ref.file)
      const other = await readComposeDocument(baseFile, dirname(baseFile), r, stack)
      const found = isMap(other.services) ? other.services[baseName] : undefined
      if (!isMap(found)) throw new ComposeFileError(name, ['services', svcName, 'extends'], `cannot extend service "${baseName}": no such service in ${shownName(baseFile, r.workingDir)}`)
      base = found
    } else {
      if (!isMap(services[baseName])) throw new ComposeFileError(name, ['services', svcName, 'extends'], `cannot extend service "${baseName}": no such service`)
      if (chain.includes(baseName)) throw new ComposeFileError(name, ['services', svcName, 'extends'], `extends cycle: ${[...chain, baseName].join(' -> ')}`)
      base = await resolveService(baseName, [...chain, baseName])
    }
    const merged = mergeService(svcName, base, own)
    resolved.set(svcName, merged)
    return merged
  }
  for (const svcName of Object.keys(services)) {
    if (isMap(services[svcName]) && services[svcName].extends !== undefined) services[svcName] = await resolveService(svcName, [svcName])
  }
}

/** Loads the included projects and adds their services, networks, volumes, secrets and configs. */
async function applyIncludes(doc: Raw, include: unknown[], name: string, here: string, r: DocumentReader, stack: readonly string[]): Promise<Raw> {
  const parts: Raw[] = []
  for (const [i, entry] of include.entries()) {
    const spec: Raw = typeof entry === 'string' ? {path: entry} : isMap(entry) ? entry : {}
    const paths = (Array.isArray(spec.path) ? spec.path : [spec.path]).map((p) => resolve(here, String(p)))
    const projectDir = typeof spec.project_directory === 'string' ? resolve(here, spec.project_directory) : dirname(paths[0]!)
    // The included project's own env files (default: its .env) add variables the parent's environment does not set.
    const envFiles = spec.env_file === undefined ? [resolve(projectDir, '.env')] : (Array.isArray(spec.env_file) ? spec.env_file : [spec.env_file]).map((f) => resolve(here, String(f)))
    const local: Record<string, string> = {}
    for (const f of envFiles) {
      const vars = await readEnvFile(f, (k) => r.lookup(k) ?? local[k], shownName(f, r.workingDir))
      if (!vars && spec.env_file !== undefined) throw new ComposeFileError(name, ['include', `[${i}]`, 'env_file'], `couldn't find env file: ${f}`)
      Object.assign(local, vars ?? {})
    }
    const sub: DocumentReader = {...r, lookup: (k) => r.lookup(k) ?? local[k]}
    const docs: Raw[] = []
    for (const p of paths) docs.push(await readComposeDocument(p, projectDir, sub, stack))
    parts.push(mergeDocuments(docs))
  }
  const out: Raw = {...doc}
  for (const section of ['services', 'networks', 'volumes', 'secrets', 'configs'] as const) {
    const mine = isMap(doc[section]) ? doc[section] : {}
    const combined: Raw = {}
    for (const part of parts) {
      for (const [k, v] of Object.entries(isMap(part[section]) ? part[section] : {})) {
        if (k in mine || k in combined) throw new ComposeFileError(name, [section, k], `conflicts with the ${section.replace(/s$/, '')} "${k}" of an included file`)
        combined[k] = v
      }
    }
    if (Object.keys(combined).length > 0 || section in doc) out[section] = {...combined, ...mine}
  }
  return out
}
