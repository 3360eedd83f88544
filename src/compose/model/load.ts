/**
 * loadProject: compose files → the normalized, validated ComposeProject, as docker compose v2
 * builds its model. Per file: read, parse (YAML 1.2, anchors, merge keys), interpolate with the
 * project environment, validate against the compose-spec schema (the error names that file),
 * bring to canonical shape. Then merge in order, decide the project name and profiles, normalize
 * to the typed model and check references (depends_on, networks, volumes) and cycles.
 */
import {readFile} from 'node:fs/promises'
import {basename, dirname, resolve} from 'node:path'
import {ComposeFileError, NotFoundError, UsageError} from '../../errors.js'
import type {Raw} from './canonical.js'
import {type DocumentReader, readComposeDocument, shownName} from './documents.js'
import {readEnvFile} from './env-file.js'
import {findComposeFiles, STDIN_FILE} from './find.js'
import {interpolateString, TemplateProblem, templateVariables, type VariableUse} from './interpolate.js'
import {mergeDocuments, untag} from './merge.js'
import {parseComposeYamlDocuments} from './parse.js'
import {Converter, normalizeFileObject, normalizeNetwork, normalizeService, normalizeVolume} from './normalize.js'
import {checkProjectName, normalizeProjectName} from './project-name.js'
import type {ComposeProject, LoadOptions, ServiceConfig} from './types.js'

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v)

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}

/** The variables for interpolation: the env files (in order) under the process environment. */
async function projectEnvironment(opts: {envFiles?: string[]; projectDir: string; workingDir: string; env: Record<string, string | undefined>}): Promise<{vars: Record<string, string>; envFiles: string[]}> {
  const processEnv: Record<string, string> = {}
  for (const [k, v] of Object.entries(opts.env)) if (v !== undefined) processEnv[k] = v
  const fromFiles: Record<string, string> = {}
  const lookup = (k: string) => processEnv[k] ?? fromFiles[k]
  const used: string[] = []
  if (opts.envFiles?.length) {
    for (const f of opts.envFiles) {
      const path = resolve(opts.workingDir, f)
      const vars = await readEnvFile(path, lookup, shownName(path, opts.workingDir))
      if (!vars) throw new NotFoundError(`couldn't find env file: ${path}`)
      Object.assign(fromFiles, vars)
      used.push(path)
    }
  } else {
    const path = resolve(opts.projectDir, '.env')
    const vars = await readEnvFile(path, lookup, shownName(path, opts.workingDir))
    if (vars) {
      Object.assign(fromFiles, vars)
      used.push(path)
    }
  }
  return {vars: {...fromFiles, ...processEnv}, envFiles: used}
}

/** Whether a value exists at `path` of a document (for naming the file an attribute came from). */
function has(doc: Raw, path: readonly string[]): boolean {
  let node: unknown = doc
  for (const seg of path) {
    if (!isMap(node) || !(seg in node)) return false
    node = node[seg]
  }
  return true
}

export async function loadProject(opts: LoadOptions = {}): Promise<ComposeProject> {
  const env = opts.env ?? process.env
  const warn = opts.onWarning ?? (() => {})
  const workingDir = resolve(opts.workingDir ?? process.cwd())
  // --env-file, else COMPOSE_ENV_FILES (comma-separated, docker compose 2.24+), else PROJECT_DIR/.env.
  if (!opts.envFiles?.length && env.COMPOSE_ENV_FILES) opts = {...opts, envFiles: env.COMPOSE_ENV_FILES.split(',').filter((f) => f !== '')}

  // COMPOSE_FILE, COMPOSE_PROJECT_NAME and COMPOSE_PROFILES may come from the .env file too.
  const early = await projectEnvironment({envFiles: opts.envFiles, projectDir: opts.projectDirectory ? resolve(workingDir, opts.projectDirectory) : workingDir, workingDir, env})
  const found = findComposeFiles({files: opts.files, workingDir, env: early.vars})
  for (const f of found.ignored) warn(`Found multiple config files with supported names; using ${shownName(found.files[0]!, workingDir)}, ignoring ${shownName(f, workingDir)}`)
  const firstFile = found.files[0]!
  const projectDir = opts.projectDirectory ? resolve(workingDir, opts.projectDirectory) : firstFile === STDIN_FILE ? workingDir : dirname(firstFile)
  const {vars, envFiles} = sameEnvSource(projectDir, opts, workingDir) ? early : await projectEnvironment({envFiles: opts.envFiles, projectDir, workingDir, env})
  // The project name (-p, COMPOSE_PROJECT_NAME, the files' `name:`, the directory) is decided
  // first: the files may use it as ${COMPOSE_PROJECT_NAME}, as the compose specification asks.
  const stdin = memo(opts.stdin ?? readStdin)
  const name = await projectName(opts, vars, found.files, projectDir, workingDir, stdin)
  const projectVars: Record<string, string> = {...vars, COMPOSE_PROJECT_NAME: name}
  const lookup = (k: string) => projectVars[k]

  const reader: DocumentReader = {workingDir, home: env.HOME, lookup, interpolate: opts.interpolate !== false, warn, stdin, unset: new Set()}
  const docs: Raw[] = []
  const shown: string[] = []
  for (const file of found.files) {
    docs.push(await readComposeDocument(file, projectDir, reader))
    shown.push(shownName(file, workingDir))
  }
  const merged = mergeDocuments(docs)
  const fileOf = (path: readonly string[]) => {
    for (let i = docs.length - 1; i >= 0; i--) if (has(docs[i]!, path.slice(0, 3))) return shown[i]!
    return shown[0]!
  }
  const converterFor = (path: readonly string[]) => new Converter(fileOf(path))

  // Profiles: --profile, else COMPOSE_PROFILES; plus those of the services named on the command line.
  const rawServices: Record<string, Raw> = {}
  if (isMap(merged.services)) for (const [k, v] of Object.entries(merged.services)) rawServices[k] = isMap(v) ? v : {}
  const profiles = new Set(opts.profiles?.length ? opts.profiles.flatMap((p) => p.split(',')) : (vars.COMPOSE_PROFILES ?? '').split(','))
  profiles.delete('')
  for (const s of opts.services ?? []) {
    const svc = rawServices[s]
    if (!svc) throw new NotFoundError(`no such service: ${s}`)
    for (const p of Array.isArray(svc.profiles) ? svc.profiles : []) profiles.add(String(p))
  }
  const isActive = (svc: Raw) => !Array.isArray(svc.profiles) || svc.profiles.length === 0 || profiles.has('*') || svc.profiles.some((p) => profiles.has(String(p)))

  const services: Record<string, ServiceConfig> = {}
  const disabledServices: Record<string, ServiceConfig> = {}
  for (const [svcName, svc] of Object.entries(rawServices)) {
    const c = converterFor(['services', svcName])
    const active = isActive(svc)
    const fromFiles: Record<string, string> = {}
    if (active && Array.isArray(svc.env_file)) {
      for (const [i, e] of svc.env_file.entries()) {
        const entry = isMap(e) ? e : {}
        const path = String(entry.path)
        const required = c.bool(entry.required, ['services', svcName, 'env_file', `[${i}]`, 'required']) ?? true
        const read = await readEnvFile(path, lookup, shownName(path, workingDir), entry.format === 'raw')
        if (!read && required) throw new ComposeFileError(fileOf(['services', svcName, 'env_file']), ['services', svcName, 'env_file', `[${i}]`], `env file ${path} not found`)
        Object.assign(fromFiles, read ?? {})
      }
    }
    // label_file: KEY=VALUE lines (dotenv syntax), under the service's own labels.
    const labelsFromFiles: Record<string, string> = {}
    if (active && Array.isArray(svc.label_file)) {
      for (const [i, f] of svc.label_file.entries()) {
        const read = await readEnvFile(String(f), () => undefined, shownName(String(f), workingDir), true)
        if (!read) throw new ComposeFileError(fileOf(['services', svcName, 'label_file']), ['services', svcName, 'label_file', `[${i}]`], `label file ${String(f)} not found`)
        Object.assign(labelsFromFiles, read)
      }
    }
    const normalized = normalizeService(svcName, svc, c, fromFiles, lookup, labelsFromFiles)
    if (active) services[svcName] = normalized
    else disabledServices[svcName] = normalized
  }

  const networks: ComposeProject['networks'] = {}
  if (isMap(merged.networks)) for (const [k, v] of Object.entries(merged.networks)) networks[k] = normalizeNetwork(k, isMap(v) ? v : {}, name, converterFor(['networks', k]))
  const volumes: ComposeProject['volumes'] = {}
  if (isMap(merged.volumes)) for (const [k, v] of Object.entries(merged.volumes)) volumes[k] = normalizeVolume(k, isMap(v) ? v : {}, name, converterFor(['volumes', k]))
  const secrets: ComposeProject['secrets'] = {}
  if (isMap(merged.secrets)) for (const [k, v] of Object.entries(merged.secrets)) secrets[k] = normalizeFileObject('secrets', k, isMap(v) ? v : {}, name, converterFor(['secrets', k]))
  const configs: ComposeProject['configs'] = {}
  if (isMap(merged.configs)) for (const [k, v] of Object.entries(merged.configs)) configs[k] = normalizeFileObject('configs', k, isMap(v) ? v : {}, name, converterFor(['configs', k]))
  if (!networks.default && Object.values(services).some((s) => 'default' in s.networks)) {
    networks.default = {name: `${name}_default`, driver_opts: {}, external: false, internal: false, attachable: false, labels: {}}
  }

  const project: ComposeProject = {
    name,
    workingDir: projectDir,
    composeFiles: found.files,
    environment: projectVars,
    envFiles,
    profiles: [...profiles].sort(),
    services,
    disabledServices,
    networks,
    volumes,
    secrets,
    configs,
  }
  checkReferences(project, fileOf, warn)
  return project
}

/** A function called at most once, its promise shared (stdin is read once, for the name and the document). */
function memo<T>(f: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined
  return () => (p ??= f())
}

/**
 * -p, else COMPOSE_PROJECT_NAME, else the last `name:` of the files (interpolated), else the
 * project directory's name normalized.
 */
async function projectName(opts: LoadOptions, vars: Record<string, string>, files: readonly string[], projectDir: string, workingDir: string, stdin: () => Promise<string>): Promise<string> {
  if (opts.projectName !== undefined) return checkProjectName(opts.projectName, '-p')
  if (vars.COMPOSE_PROJECT_NAME) return checkProjectName(vars.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME')
  let fromFile: {name: string; file: string} | undefined
  for (const file of files) {
    const shown = shownName(file, workingDir)
    let text: string
    try {
      text = file === STDIN_FILE ? await stdin() : await readFile(file, 'utf8')
    } catch {
      continue // reported when the file is read for its document
    }
    const names = parseComposeYamlDocuments(text, shown).map((d) => d.name)
    const last = names.filter((n) => typeof n === 'string' && n !== '').at(-1)
    if (typeof last !== 'string') continue
    let value = last
    if (opts.interpolate !== false) {
      try {
        value = interpolateString(value, {lookup: (k) => vars[k]})
      } catch (err) {
        if (err instanceof TemplateProblem) throw new ComposeFileError(shown, ['name'], err.message)
        throw err
      }
    }
    if (value !== '') fromFile = {name: value, file: shown}
  }
  if (fromFile) return checkProjectName(fromFile.name, `${fromFile.file}: name`)
  const name = normalizeProjectName(basename(projectDir))
  if (name === '') throw new UsageError(`project name must not be empty: the directory name "${basename(projectDir)}" has no usable character; use -p NAME`)
  return name
}

/** When the .env read for COMPOSE_* variables is already the project's own. */
function sameEnvSource(projectDir: string, opts: LoadOptions, workingDir: string): boolean {
  return Boolean(opts.envFiles?.length) || projectDir === (opts.projectDirectory ? resolve(workingDir, opts.projectDirectory) : workingDir)
}

/** docker compose's checks of a loaded model: what services refer to must exist, no dependency cycle. */
function checkReferences(project: ComposeProject, fileOf: (path: readonly string[]) => string, warn: (m: string) => void): void {
  const invalid = (svc: string, attr: string, problem: string): never => {
    throw new ComposeFileError(fileOf(['services', svc, attr]), ['services', svc, attr], problem)
  }
  const profilesOf = (s: ServiceConfig) => `[${s.profiles.join(' ')}]`
  for (const svc of Object.values(project.services)) {
    if (svc.image === undefined && svc.build === undefined) {
      throw new ComposeFileError(fileOf(['services', svc.name]), ['services', svc.name], 'has neither an image nor a build context specified')
    }
    for (const [dep, d] of Object.entries(svc.depends_on)) {
      if (project.services[dep]) continue
      const disabled = project.disabledServices[dep]
      if (!d.required) {
        warn(`service "${svc.name}" depends on ${disabled ? 'disabled' : 'undefined'} service "${dep}" (required: false): ignored`)
        delete svc.depends_on[dep]
        continue
      }
      if (disabled) invalid(svc.name, 'depends_on', `service "${dep}" is required by "${svc.name}" but is disabled; it can be enabled by profiles ${profilesOf(disabled)}`)
      invalid(svc.name, 'depends_on', `depends on undefined service "${dep}"`)
    }
    for (const net of Object.keys(svc.networks)) {
      if (!project.networks[net]) invalid(svc.name, 'networks', `refers to undefined network "${net}"`)
    }
    for (const [i, v] of svc.volumes.entries()) {
      if (v.type === 'volume' && v.source !== undefined && !project.volumes[v.source]) {
        throw new ComposeFileError(fileOf(['services', svc.name, 'volumes']), ['services', svc.name, 'volumes', `[${i}]`], `refers to undefined volume "${v.source}"`)
      }
    }
    const mode = svc.network_mode
    const ref = mode && /^service:(.+)$/.exec(mode)?.[1]
    if (ref && !project.services[ref]) invalid(svc.name, 'network_mode', project.disabledServices[ref] ? `service "${ref}" is disabled; it can be enabled by profiles ${profilesOf(project.disabledServices[ref])}` : `refers to undefined service "${ref}"`)
    for (const from of svc.volumes_from) {
      const m = /^(container:)?([^:]+)/.exec(from)
      if (m && !m[1] && !project.services[m[2]!]) invalid(svc.name, 'volumes_from', `refers to undefined service "${m[2]}"`)
    }
    if (svc.container_name !== undefined && svc.scale > 1) invalid(svc.name, 'container_name', `"${svc.container_name}" cannot be used with scale ${svc.scale}: container names must be unique`)
    for (const s of svc.secrets) if (!project.secrets[s.source]) invalid(svc.name, 'secrets', `refers to undefined secret "${s.source}"`)
    for (const s of svc.configs) if (!project.configs[s.source]) invalid(svc.name, 'configs', `refers to undefined config "${s.source}"`)
  }
  // Cycles through depends_on (and network_mode: service:X, which must start first too).
  const state = new Map<string, 'visiting' | 'done'>()
  const visit = (name: string, trail: string[]): void => {
    if (state.get(name) === 'done') return
    if (state.get(name) === 'visiting') {
      const cycle = [...trail.slice(trail.indexOf(name)), name]
      throw new ComposeFileError(fileOf(['services', name, 'depends_on']), ['services', name, 'depends_on'], `dependency cycle detected: ${cycle.join(' -> ')}`)
    }
    state.set(name, 'visiting')
    for (const dep of serviceDependencies(project.services[name]!)) if (project.services[dep]) visit(dep, [...trail, name])
    state.set(name, 'done')
  }
  for (const name of Object.keys(project.services)) visit(name, [])
}

/** The services a service needs started before it: depends_on, network_mode service:X, volumes_from, links. */
export function serviceDependencies(svc: ServiceConfig): string[] {
  const deps = new Set(Object.keys(svc.depends_on))
  const ref = svc.network_mode && /^service:(.+)$/.exec(svc.network_mode)?.[1]
  if (ref) deps.add(ref)
  for (const from of svc.volumes_from) {
    const m = /^(container:)?([^:]+)/.exec(from)
    if (m && !m[1]) deps.add(m[2]!)
  }
  for (const link of svc.links) deps.add(link.split(':')[0]!)
  return [...deps]
}

/**
 * The variables the compose files use (`compose config --variables`), by name, in first-use
 * order, read from the files as written (no interpolation, no validation).
 */
export async function composeVariables(opts: LoadOptions = {}): Promise<VariableUse[]> {
  const env = opts.env ?? process.env
  const workingDir = resolve(opts.workingDir ?? process.cwd())
  const early = await projectEnvironment({envFiles: opts.envFiles, projectDir: opts.projectDirectory ? resolve(workingDir, opts.projectDirectory) : workingDir, workingDir, env})
  const found = findComposeFiles({files: opts.files, workingDir, env: early.vars})
  const byName = new Map<string, VariableUse>()
  const walk = (node: unknown): void => {
    if (typeof node === 'string') {
      for (const v of templateVariables(node)) {
        const seen = byName.get(v.name)
        if (!seen) byName.set(v.name, {...v})
        else {
          seen.required ||= v.required
          seen.defaultValue ??= v.defaultValue
          seen.alternateValue ??= v.alternateValue
        }
      }
    } else if (Array.isArray(node)) node.forEach(walk)
    else if (node !== null && typeof node === 'object') Object.values(node).forEach(walk)
  }
  const stdin = opts.stdin ?? readStdin
  for (const file of found.files) {
    const shown = shownName(file, workingDir)
    const text = file === STDIN_FILE ? await stdin() : await readFile(file, 'utf8')
    for (const doc of parseComposeYamlDocuments(text, shown)) walk(untag(doc))
  }
  return [...byName.values()]
}
