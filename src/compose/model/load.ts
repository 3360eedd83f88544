/**
 * loadProject: compose files → the normalized, validated ComposeProject, as docker compose v2
 * builds its model. Per file: read, parse (YAML 1.2, anchors, merge keys), interpolate with the
 * project environment, validate against the compose-spec schema (the error names that file),
 * bring to canonical shape. Then merge in order, decide the project name and profiles, normalize
 * to the typed model and check references (depends_on, networks, volumes) and cycles.
 */
import {readFile} from 'node:fs/promises'
import {basename, dirname, relative, resolve} from 'node:path'
import {ComposeFileError, NotFoundError, UsageError} from '../../errors.js'
import {canonicalDocument, type Raw} from './canonical.js'
import {readEnvFile} from './env-file.js'
import {findComposeFiles, STDIN_FILE} from './find.js'
import {interpolateDocument} from './interpolate.js'
import {mergeDocuments, untag} from './merge.js'
import {Converter, normalizeFileObject, normalizeNetwork, normalizeService, normalizeVolume} from './normalize.js'
import {parseComposeYaml} from './parse.js'
import {checkProjectName, normalizeProjectName} from './project-name.js'
import type {ComposeProject, LoadOptions, ServiceConfig} from './types.js'
import {validateComposeDocument} from './validate.js'

const isMap = (v: unknown): v is Raw => v !== null && typeof v === 'object' && !Array.isArray(v)

/** A file's name in messages: relative to the working directory when it is below it. */
function shownName(file: string, workingDir: string): string {
  if (file === STDIN_FILE) return 'stdin'
  const rel = relative(workingDir, file)
  return rel && !rel.startsWith('..') ? rel : file
}

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

  // COMPOSE_FILE, COMPOSE_PROJECT_NAME and COMPOSE_PROFILES may come from the .env file too.
  const early = await projectEnvironment({envFiles: opts.envFiles, projectDir: opts.projectDirectory ? resolve(workingDir, opts.projectDirectory) : workingDir, workingDir, env})
  const found = findComposeFiles({files: opts.files, workingDir, env: early.vars})
  for (const f of found.ignored) warn(`Found multiple config files with supported names; using ${shownName(found.files[0]!, workingDir)}, ignoring ${shownName(f, workingDir)}`)
  const firstFile = found.files[0]!
  const projectDir = opts.projectDirectory ? resolve(workingDir, opts.projectDirectory) : firstFile === STDIN_FILE ? workingDir : dirname(firstFile)
  const {vars, envFiles} = sameEnvSource(projectDir, opts, workingDir) ? early : await projectEnvironment({envFiles: opts.envFiles, projectDir, workingDir, env})
  const lookup = (k: string) => vars[k]

  const unset = new Set<string>()
  const docs: Raw[] = []
  const shown: string[] = []
  for (const file of found.files) {
    const name = shownName(file, workingDir)
    let text: string
    try {
      text = file === STDIN_FILE ? await (opts.stdin ?? readStdin)() : await readFile(file, 'utf8')
    } catch (err) {
      throw new ComposeFileError(name, [], (err as Error).message)
    }
    let doc: Raw = parseComposeYaml(text, name)
    if (opts.interpolate !== false) {
      doc = interpolateDocument(doc, {lookup, onUnset: (v) => {
        if (!unset.has(v)) warn(`The "${v}" variable is not set. Defaulting to a blank string.`)
        unset.add(v)
      }}, name) as Raw
    }
    validateComposeDocument(untag(doc), name)
    if (doc.version !== undefined) warn(`${name}: the attribute \`version\` is obsolete, it will be ignored, please remove it to avoid potential confusion`)
    docs.push(canonicalDocument(doc, {projectDir, file: name, home: env.HOME}))
    shown.push(name)
  }
  const merged = mergeDocuments(docs)
  const fileOf = (path: readonly string[]) => {
    for (let i = docs.length - 1; i >= 0; i--) if (has(docs[i]!, path.slice(0, 3))) return shown[i]!
    return shown[0]!
  }
  const converterFor = (path: readonly string[]) => new Converter(fileOf(path))

  // The project name: -p, COMPOSE_PROJECT_NAME, `name:`, the directory.
  let name: string
  if (opts.projectName !== undefined) name = checkProjectName(opts.projectName, '-p')
  else if (vars.COMPOSE_PROJECT_NAME) name = checkProjectName(vars.COMPOSE_PROJECT_NAME, 'COMPOSE_PROJECT_NAME')
  else if (typeof merged.name === 'string' && merged.name !== '') name = checkProjectName(merged.name, `${fileOf(['name'])}: name`)
  else {
    name = normalizeProjectName(basename(projectDir))
    if (name === '') throw new UsageError(`project name must not be empty: the directory name "${basename(projectDir)}" has no usable character; use -p NAME`)
  }

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
        const read = await readEnvFile(path, lookup, shownName(path, workingDir))
        if (!read && required) throw new ComposeFileError(fileOf(['services', svcName, 'env_file']), ['services', svcName, 'env_file', `[${i}]`], `env file ${path} not found`)
        Object.assign(fromFiles, read ?? {})
      }
    }
    const normalized = normalizeService(svcName, svc, c, fromFiles, lookup)
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
    environment: vars,
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
