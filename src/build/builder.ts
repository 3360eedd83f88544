import {existsSync} from 'node:fs'
import {readFile, writeFile} from 'node:fs/promises'
import {join, resolve} from 'node:path'
import {posix} from 'node:path'
import {Writable} from 'node:stream'
import type {Context} from '../context.js'
import {imageForRun} from '../container/create.js'
import {UsageError} from '../errors.js'
import {storeLayerTar} from '../image/layer-blob.js'
import {recordLocalImage, sha256} from '../image/local-image.js'
import {formatPlatform, hostPlatform, parsePlatform, platformMatches} from '../image/platform.js'
import {startDiffTar} from '../layer/diff-tar-run.js'
import type {ImageConfig, ImageRecord, Platform} from '../oci/types.js'
import {parseReference} from '../reference/parse.js'
import {readRootfsFile, resolveUser} from '../spec/user.js'
import {readBlob} from '../store/content.js'
import {lowerDirs} from '../store/layers.js'
import {createProcessLease, type ProcessLease} from '../store/leases.js'
import {cacheGet, cachePut, chainKey, type CacheEntry} from './cache.js'
import {archiveEntries, ContextSources, destination, parentDirs, stageEntries, urlEntry, type Owner} from './copy-sources.js'
import {DockerfileError, parseDockerfile, parseJsonArray, type Instruction} from './dockerfile.js'
import {parseDockerignore} from './dockerignore.js'
import {entriesHash, entriesTar, orderEntries, type LayerEntry} from './entries.js'
import {runStep, type BuildState} from './run-step.js'
import {keyValuePairs, processWord, processWords, WordError, type Vars} from './words.js'

export interface BuildOptions {
  contextDir: string
  /** -f: the Dockerfile (relative to the working directory); default CONTEXT/Dockerfile or Containerfile. */
  file?: string
  tags: string[]
  buildArgs: Record<string, string>
  target?: string
  noCache: boolean
  pull: boolean
  labels: Record<string, string>
  network?: string
  /** Progress lines and RUN output (docker writes them to stderr); nothing when quiet. */
  progress?: NodeJS.WritableStream
  iidfile?: string
  /** --platform os/arch[/variant]: the target platform (default: this machine's). */
  platform?: string
}

export interface BuildResult {
  id: string
  refs: string[]
}

interface Stage {
  index: number
  name: string
  from: Instruction
  steps: Instruction[]
  /** The platform the stage builds for (FROM --platform, else the target platform). */
  platform?: Platform
}

const NUMBERED = new Set(['RUN', 'COPY', 'ADD', 'WORKDIR'])

function splitStages(all: Instruction[], file: string): {globals: Instruction[]; stages: Stage[]} {
  const globals: Instruction[] = []
  const stages: Stage[] = []
  for (const ins of all) {
    if (ins.cmd === 'FROM') {
      const words = ins.rest.split(/\s+/)
      let name = `stage-${stages.length}`
      if (words.length === 3 && words[1]!.toUpperCase() === 'AS') name = words[2]!.toLowerCase()
      else if (words.length !== 1) throw new DockerfileError(file, ins.line, `FROM: expected IMAGE [AS NAME], got ${JSON.stringify(ins.rest)}`)
      if (stages.some((s) => s.name === name)) throw new DockerfileError(file, ins.line, `duplicate stage name ${JSON.stringify(name)}`)
      stages.push({index: stages.length, name, from: ins, steps: []})
    } else if (stages.length === 0) globals.push(ins)
    else stages.at(-1)!.steps.push(ins)
  }
  return {globals, stages}
}

function envMap(config: ImageConfig): Map<string, string> {
  return new Map((config.config?.Env ?? []).map((e) => [e.split('=')[0]!, e.slice(e.indexOf('=') + 1)]))
}

function setEnv(config: ImageConfig, key: string, value: string): void {
  const env = [...(config.config?.Env ?? [])]
  const i = env.findIndex((e) => e.split('=')[0] === key)
  if (i >= 0) env[i] = `${key}=${value}`
  else env.push(`${key}=${value}`)
  ;(config.config ??= {}).Env = env
}

/** Go durations as docker's HEALTHCHECK flags take them (1m30s, 500ms), in nanoseconds. */
function duration(s: string, what: string): number {
  let total = 0
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy
  let m: RegExpExecArray | null
  let pos = 0
  const unit: Record<string, number> = {ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9}
  while ((m = re.exec(s))) {
    total += Number(m[1]) * unit[m[2]!]!
    pos = re.lastIndex
  }
  if (pos !== s.length || s === '') throw new UsageError(`${what}: invalid duration ${JSON.stringify(s)}`)
  return Math.round(total)
}

class Progress {
  private n = 0
  constructor(private readonly out?: NodeJS.WritableStream) {}
  step(title: string): {id: number; t0: number} {
    const id = ++this.n
    this.out?.write(`#${id} ${title}\n`)
    return {id, t0: performance.now()}
  }
  line(id: number, text: string): void {
    this.out?.write(`#${id} ${text}\n`)
  }
  done(s: {id: number; t0: number}): void {
    this.line(s.id, `DONE ${((performance.now() - s.t0) / 1000).toFixed(1)}s`)
  }
  /** A stream whose lines go out as `#N 0.123 line` (RUN output). */
  output(s: {id: number; t0: number}): NodeJS.WritableStream {
    let pending = ''
    const emit = (line: string) => this.line(s.id, `${((performance.now() - s.t0) / 1000).toFixed(3)} ${line}`)
    return new Writable({
      write: (chunk: Buffer, _enc: BufferEncoding, cb: () => void) => {
        pending += chunk.toString('utf8')
        const lines = pending.split('\n')
        pending = lines.pop()!
        for (const l of lines) emit(l)
        cb()
      },
      final: (cb: () => void) => {
        if (pending) emit(pending)
        cb()
      },
    })
  }
}

/** `build`: the Dockerfile's target stage (and the stages it needs) as an image. */
export async function buildImage(ctx: Context, opts: BuildOptions): Promise<BuildResult> {
  const contextDir = resolve(opts.contextDir)
  if (!existsSync(contextDir)) throw new UsageError(`build context ${JSON.stringify(opts.contextDir)} does not exist`)
  const file = opts.file ? resolve(opts.file) : ['Dockerfile', 'Containerfile'].map((f) => join(contextDir, f)).find((f) => existsSync(f))
  if (!file || !existsSync(file)) throw new UsageError(`no Dockerfile or Containerfile in ${opts.contextDir}${opts.file ? ` (-f ${opts.file})` : ''}`)
  const fileName = opts.file ?? posix.basename(file)
  const text = await readFile(file, 'utf8')
  const all = parseDockerfile(text, fileName)
  const ignoreText = await readFile(join(contextDir, '.dockerignore'), 'utf8').catch(() => '')
  const sources = new ContextSources(contextDir, parseDockerignore(ignoreText))
  const {globals, stages} = splitStages(all, fileName)
  const progress = new Progress(opts.progress)
  const fail = (ins: Instruction, err: unknown): never => {
    if (err instanceof WordError) throw new DockerfileError(fileName, ins.line, err.message)
    throw err
  }

  // Global ARGs: usable in FROM lines, and as defaults for the stages' ARG NAME. The platform
  // ARGs are predefined as docker's (BuildKit's): in FROM lines, and in a stage after `ARG NAME`.
  const buildPlatform = hostPlatform()
  const targetPlatform = opts.platform ? parsePlatform(opts.platform) : buildPlatform
  const globalArgs = new Map<string, string>(platformArgs(buildPlatform, targetPlatform))
  for (const g of globals) {
    for (const [k, v] of keyValuePairs(g.rest, globalArgs, false)) {
      const value = opts.buildArgs[k] ?? v ?? globalArgs.get(k)
      if (value !== undefined) globalArgs.set(k, value)
    }
  }

  let targetIndex = stages.length - 1
  if (opts.target) {
    targetIndex = stages.findIndex((s) => s.name === opts.target!.toLowerCase())
    if (targetIndex < 0) throw new UsageError(`target stage ${JSON.stringify(opts.target)} could not be found`)
  }
  const stageRef = (name: string, before: number): Stage | undefined => {
    const byName = stages.find((s) => s.name === name.toLowerCase() && s.index < before)
    if (byName) return byName
    return /^\d+$/.test(name) && Number(name) < before ? stages[Number(name)] : undefined
  }
  // The stages the target needs (FROM stage, COPY --from=stage), transitively.
  const needed = new Set<number>()
  const need = (i: number): void => {
    if (needed.has(i)) return
    needed.add(i)
    const s = stages[i]!
    const base = stageRef(processWord(s.from.rest.split(/\s+/)[0]!, globalArgs), i)
    if (base) need(base.index)
    for (const st of s.steps) {
      if ((st.cmd === 'COPY' || st.cmd === 'ADD') && st.flags.from) {
        const dep = stageRef(st.flags.from, i)
        if (dep) need(dep.index)
      }
    }
  }
  need(targetIndex)

  const lease = await createProcessLease(ctx.store, 'build')
  try {
    const done = new Map<number, BuildState>()
    let final: BuildState | undefined
    for (const stage of stages) {
      if (!needed.has(stage.index)) continue
      stage.platform = targetPlatform
      if (stage.from.flags.platform !== undefined) {
        try {
          stage.platform = parsePlatform(processWord(stage.from.flags.platform, globalArgs))
        } catch (err) {
          if (err instanceof UsageError) throw new DockerfileError(fileName, stage.from.line, `FROM --platform: ${err.message}`)
          fail(stage.from, err)
        }
      }
      final = await buildStage(ctx, opts, stage, {globalArgs, stages: done, stageRef, sources, progress, lease, fail})
      done.set(stage.index, final)
    }
    const declared = new Set(all.filter((i) => i.cmd === 'ARG').flatMap((i) => keyValuePairs(i.rest, new Map(), false).map(([name]) => name)))
    const unused = Object.keys(opts.buildArgs).filter((a) => !declared.has(a))
    if (unused.length > 0) opts.progress?.write(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`)
    const state = final!
    const config = structuredClone(state.config)
    // The image records the platform it was built for (the last stage's).
    const plat = stages[targetIndex]!.platform ?? targetPlatform
    config.os = plat.os
    config.architecture = plat.architecture
    if (plat.variant) config.variant = plat.variant
    else delete config.variant
    if (Object.keys(opts.labels).length > 0) (config.config ??= {}).Labels = {...(config.config?.Labels ?? {}), ...opts.labels}
    config.created = config.history?.at(-1)?.created ?? new Date().toISOString()
    const bytes = Buffer.from(JSON.stringify(config))
    const id = sha256(bytes)
    const refs = opts.tags.length > 0 ? opts.tags.map((t) => parseReference(t).toString()) : [`localhost/build:${id.slice(7, 19)}`]
    const w = progress.step('exporting to image')
    await recordLocalImage(ctx, {config: bytes, layers: state.layers, refs}, lease)
    progress.line(w.id, `writing image ${id} done`)
    for (const r of refs) progress.line(w.id, `naming to ${r} done`)
    progress.done(w)
    if (opts.iidfile) await writeFile(opts.iidfile, id)
    return {id, refs}
  } finally {
    await lease.release()
  }
}

interface StageEnv {
  globalArgs: Map<string, string>
  stages: Map<number, BuildState>
  stageRef: (name: string, before: number) => Stage | undefined
  sources: ContextSources
  progress: Progress
  lease: ProcessLease
  fail: (ins: Instruction, err: unknown) => never
}

/** BUILDPLATFORM, BUILDOS, ... TARGETVARIANT as docker (BuildKit) defines them. */
export function platformArgs(build: Platform, target: Platform): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (const [prefix, q] of [['BUILD', build], ['TARGET', target]] as const) {
    // containerd's normalization (BuildKit's): arm64's default variant v8 is not spelled out
    const p = q.architecture === 'arm64' && q.variant === 'v8' ? {os: q.os, architecture: q.architecture} : q
    out.push([`${prefix}PLATFORM`, formatPlatform(p)], [`${prefix}OS`, p.os], [`${prefix}ARCH`, p.architecture], [`${prefix}VARIANT`, p.variant ?? ''])
  }
  return out
}

async function imageState(ctx: Context, ref: string, pull: boolean, lease: ProcessLease, platform?: Platform): Promise<BuildState> {
  let image: ImageRecord
  const wanted = platform ? formatPlatform(platform) : undefined
  if (pull) {
    const {pullImage} = await import('../image/pull.js')
    image = await pullImage(ctx, ref, wanted ? {platform: wanted} : {})
  } else image = await imageForRun(ctx, ref, wanted)
  await lease.add({content: [image.id, ...image.layers.map((l) => l.digest)], layers: image.layers.map((l) => l.diffId)})
  const config = JSON.parse((await readBlob(ctx.store, image.id)).toString('utf8')) as ImageConfig
  return {config, layers: image.layers, key: `image:${image.id}`}
}

function scratchState(p: Platform = hostPlatform()): BuildState {
  return {config: {architecture: p.architecture, os: 'linux', ...(p.variant ? {variant: p.variant} : {}), config: {}, rootfs: {type: 'layers', diff_ids: []}, history: []}, layers: [], key: 'scratch'}
}

async function buildStage(ctx: Context, opts: BuildOptions, stage: Stage, env: StageEnv): Promise<BuildState> {
  const {progress, lease} = env
  let steps = stage.steps
  let count = 1 + steps.filter((s) => NUMBERED.has(s.cmd)).length
  let k = 1
  const title = (ins: Instruction, shown: string) => `[${stage.name} ${k}/${count}] ${ins.cmd} ${shown}`

  let baseName: string
  try {
    baseName = processWord(stage.from.rest.split(/\s+/)[0]!, env.globalArgs)
  } catch (err) {
    env.fail(stage.from, err)
  }
  const fromStep = progress.step(title(stage.from, baseName!))
  let state: BuildState
  const baseStage = env.stageRef(baseName!, stage.index)
  if (baseStage) state = structuredClone(env.stages.get(baseStage.index)!)
  else if (baseName!.toLowerCase() === 'scratch') state = scratchState(stage.platform)
  else {
    state = await imageState(ctx, baseName!, opts.pull, lease, stage.platform)
    // ONBUILD: the base image's triggers run right after FROM, and are not inherited further.
    const triggers = state.config.config?.OnBuild ?? []
    if (triggers.length > 0) {
      const parsed = onbuildTriggers(triggers, stage.from)
      steps = [...parsed, ...steps]
      count = 1 + steps.filter((s) => NUMBERED.has(s.cmd)).length
      delete state.config.config!.OnBuild
      progress.line(fromStep.id, `${triggers.length} ONBUILD trigger${triggers.length === 1 ? '' : 's'} from ${baseName!}`)
    }
  }
  progress.done(fromStep)

  state.config.config ??= {}
  state.config.history ??= []
  const args = new Map<string, string>()
  const vars = (): Vars => new Map([...args, ...envMap(state.config)])
  const shell = () => state.config.config?.Shell ?? ['/bin/sh', '-c']

  for (const ins of steps) {
    try {
      const cfg = (state.config.config ??= {})
      const history = (comment: string | undefined, emptyLayer: boolean, created: string) =>
        state.config.history!.push({created, created_by: comment ?? ins.text, comment: 'ctr-ts build', ...(emptyLayer ? {empty_layer: true} : {})})
      /** Metadata steps: no layer, a history entry whose time comes from the cache (same image on a rebuild). */
      const meta = async (shown: string, apply: () => void) => {
        apply()
        const key = chainKey(state.key, [ins.cmd, shown])
        const hit = opts.noCache ? undefined : await cacheGet(ctx.store, key)
        const created = hit?.created ?? new Date().toISOString()
        if (!hit) await cachePut(ctx.store, key, {created})
        history(`${ins.cmd} ${shown}`, true, created)
        state.key = key
      }
      const v = vars()
      switch (ins.cmd) {
        case 'ARG': {
          const pairs = keyValuePairs(ins.rest, v, false)
          for (const [name, def] of pairs) {
            const value = opts.buildArgs[name] ?? (def !== undefined ? def : env.globalArgs.get(name))
            if (value !== undefined) args.set(name, value)
          }
          // Not in the history; the values that RUN steps see are part of their keys.
          break
        }
        case 'ENV': {
          const pairs = keyValuePairs(ins.rest, v, true)
          await meta(pairs.map(([a, b]) => `${a}=${b ?? ''}`).join(' '), () => {
            for (const [a, b] of pairs) setEnv(state.config, a, b ?? '')
          })
          break
        }
        case 'LABEL': {
          const pairs = keyValuePairs(ins.rest, v, true)
          await meta(pairs.map(([a, b]) => `${a}=${b ?? ''}`).join(' '), () => {
            cfg.Labels = {...(cfg.Labels ?? {}), ...Object.fromEntries(pairs.map(([a, b]) => [a, b ?? '']))}
          })
          break
        }
        case 'MAINTAINER': {
          const who = processWord(ins.rest, v)
          await meta(who, () => (state.config.author = who))
          break
        }
        case 'EXPOSE': {
          const ports = processWords(ins.rest, v)
          await meta(ports.join(' '), () => {
            for (const p of ports) {
              if (!/^\d+(?:-\d+)?(?:\/(?:tcp|udp|sctp))?$/i.test(p)) throw new DockerfileError(ins.line === 0 ? '' : 'Dockerfile', ins.line, `EXPOSE: invalid port ${JSON.stringify(p)}`)
              ;(cfg.ExposedPorts ??= {})[p.includes('/') ? p.toLowerCase() : `${p}/tcp`] = {}
            }
          })
          break
        }
        case 'VOLUME': {
          const vols = ins.json ?? processWords(ins.rest, v)
          await meta(JSON.stringify(vols), () => {
            for (const p of vols) (cfg.Volumes ??= {})[p] = {}
          })
          break
        }
        case 'USER': {
          const user = processWord(ins.rest, v)
          await meta(user, () => (cfg.User = user))
          break
        }
        case 'WORKDIR': {
          const dir = processWord(ins.rest, v)
          const abs = posix.normalize(posix.isAbsolute(dir) ? dir : posix.join(cfg.WorkingDir || '/', dir))
          k++
          const step = progress.step(title(ins, abs))
          // As docker: a missing directory is made (root's, 0755), in a layer of its own.
          const made = parentDirs(abs, await lowerDirs(ctx.store, state.layers.map((l) => l.diffId)), {uid: 0, gid: 0}, true)
          if (made.length === 0) await meta(abs, () => (cfg.WorkingDir = abs))
          else {
            cfg.WorkingDir = abs
            const key = chainKey(state.key, ['WORKDIR', abs])
            let hit = opts.noCache ? undefined : await cacheGet(ctx.store, key)
            if (hit) progress.line(step.id, 'CACHED')
            else {
              hit = {created: new Date().toISOString(), layer: await layerOf(ctx, orderEntries(made), lease)}
              await cachePut(ctx.store, key, hit)
            }
            addLayer(state, hit, `WORKDIR ${abs}`)
            await lease.add({content: [hit.layer!.digest], layers: [hit.layer!.diffId]})
            state.key = key
          }
          if (made.length === 0 || !opts.noCache) progress.done(step)
          break
        }
        case 'STOPSIGNAL': {
          const sig = processWord(ins.rest, v)
          await meta(sig, () => (cfg.StopSignal = sig))
          break
        }
        case 'CMD':
        case 'ENTRYPOINT': {
          const argv = ins.json ?? [...shell(), ins.rest]
          await meta(JSON.stringify(argv), () => {
            if (ins.cmd === 'CMD') cfg.Cmd = argv
            else {
              cfg.Entrypoint = argv
              // docker: ENTRYPOINT resets a CMD inherited from the base image
              if (!steps.slice(0, steps.indexOf(ins)).some((s) => s.cmd === 'CMD')) cfg.Cmd = null
            }
          })
          break
        }
        case 'SHELL': {
          if (!ins.json || ins.json.length === 0) throw new UsageError(`${ins.cmd} requires the arguments in JSON form`)
          await meta(JSON.stringify(ins.json), () => (cfg.Shell = ins.json))
          break
        }
        case 'ONBUILD': {
          const trigger = ins.rest
          if (/^(ONBUILD|FROM|MAINTAINER)\b/i.test(trigger)) throw new UsageError(`${trigger.split(/\s/)[0]} isn't allowed as an ONBUILD trigger`)
          await meta(trigger, () => (cfg.OnBuild = [...(cfg.OnBuild ?? []), trigger]))
          break
        }
        case 'HEALTHCHECK': {
          const hc = healthcheck(ins)
          await meta(JSON.stringify(hc), () => (cfg.Healthcheck = hc))
          break
        }
        case 'RUN': {
          const host = hostPlatform()
          if (stage.platform && !platformMatches(host, stage.platform)) {
            throw new UsageError(`RUN: cannot run a ${formatPlatform(stage.platform)} step on this ${formatPlatform(host)} machine (no emulation: use FROM --platform=$BUILDPLATFORM for RUN steps)`)
          }
          const network = ins.flags.network !== undefined ? (ins.flags.network === 'default' ? undefined : ins.flags.network) : opts.network
          k++
          const argv = ins.json ?? [...shell(), ins.rest]
          const runEnv = [...args].filter(([a]) => !envMap(state.config).has(a)).map(([a, b]) => `${a}=${b}`)
          const shown = ins.json ? JSON.stringify(ins.json) : ins.rest
          const step = progress.step(title(ins, shown))
          const key = chainKey(state.key, ['RUN', JSON.stringify(argv), ...runEnv, network ?? ''])
          let hit = opts.noCache ? undefined : await cacheGet(ctx.store, key)
          if (hit) progress.line(step.id, 'CACHED')
          else {
            const out = progress.output(step)
            const layer = await runStep(ctx, {state, argv, env: runEnv, ...(network ? {network} : {}), out, lease, text: ins.text})
            out.end()
            await ensureUnpacked(ctx, layer, lease)
            hit = {created: new Date().toISOString(), layer}
            await cachePut(ctx.store, key, hit)
            progress.done(step)
          }
          addLayer(state, hit, `RUN ${runEnv.length ? `|${runEnv.length} ${runEnv.join(' ')} ` : ''}${shown}`)
          await lease.add({content: [hit.layer!.digest], layers: [hit.layer!.diffId]})
          state.key = key
          break
        }
        case 'COPY':
        case 'ADD': {
          k++
          await copyStep(ctx, opts, stage, ins, state, env, v, title)
          break
        }
        default:
          throw new UsageError(`unsupported instruction ${ins.cmd}`)
      }
    } catch (err) {
      if (err instanceof DockerfileError) throw err
      if (err instanceof WordError) env.fail(ins, err)
      if (err instanceof UsageError) throw new DockerfileError(opts.file ?? 'Dockerfile', ins.line, err.message)
      throw err
    }
  }
  return state
}

/** The base image's ONBUILD triggers as instructions, reported at the FROM line that runs them. */
function onbuildTriggers(triggers: string[], from: Instruction): Instruction[] {
  const parsed = parseDockerfile(`FROM scratch\n${triggers.map((t) => t.replace(/\n/g, ' ')).join('\n')}\n`, 'ONBUILD').slice(1)
  for (const t of parsed) {
    if (t.cmd === 'ONBUILD' || t.cmd === 'FROM' || t.cmd === 'MAINTAINER') throw new DockerfileError('ONBUILD', from.line, `${t.cmd} isn't allowed as an ONBUILD trigger`)
  }
  return parsed.map((t) => ({...t, line: from.line}))
}

function addLayer(state: BuildState, entry: CacheEntry, createdBy: string): void {
  state.layers = [...state.layers, entry.layer!]
  state.config.rootfs = {type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, entry.layer!.diffId]}
  state.config.history!.push({created: entry.created, created_by: createdBy, comment: 'ctr-ts build'})
}

function healthcheck(ins: Instruction): NonNullable<NonNullable<ImageConfig['config']>['Healthcheck']> {
  const rest = ins.rest
  if (/^NONE\s*$/i.test(rest)) return {Test: ['NONE']}
  const m = /^CMD\s+([\s\S]+)$/i.exec(rest)
  if (!m) throw new UsageError('HEALTHCHECK: expected NONE or [OPTIONS] CMD command')
  const cmd = m[1]!.trim()
  const json = parseJsonArray(cmd)
  const hc: NonNullable<NonNullable<ImageConfig['config']>['Healthcheck']> = {Test: json ? ['CMD', ...json] : ['CMD-SHELL', cmd]}
  for (const [flag, value] of Object.entries(ins.flags)) {
    if (flag === 'interval') hc.Interval = duration(value, 'HEALTHCHECK --interval')
    else if (flag === 'timeout') hc.Timeout = duration(value, 'HEALTHCHECK --timeout')
    else if (flag === 'start-period') hc.StartPeriod = duration(value, 'HEALTHCHECK --start-period')
    else if (flag === 'start-interval') hc.StartInterval = duration(value, 'HEALTHCHECK --start-interval')
    else if (flag === 'retries') hc.Retries = Number(value)
  }
  return hc
}

function chownOwner(spec: string | undefined, dirs: string[]): Owner {
  if (!spec) return {uid: 0, gid: 0}
  const u = resolveUser(spec, {passwd: readRootfsFile(dirs, '/etc/passwd'), group: readRootfsFile(dirs, '/etc/group')})
  return {uid: u.uid, gid: u.gid}
}

async function copyStep(
  ctx: Context,
  opts: BuildOptions,
  stage: Stage,
  ins: Instruction,
  state: BuildState,
  env: StageEnv,
  v: Vars,
  title: (ins: Instruction, shown: string) => string,
): Promise<void> {
  const words = ins.json ? ins.json.map((w) => processWord(w, v)) : processWords(ins.rest, v)
  if (words.length < 2) throw new UsageError(`${ins.cmd} requires at least two arguments`)
  const srcs = words.slice(0, -1)
  const dest = destination(words.at(-1)!, state.config.config?.WorkingDir ?? '/', srcs.length > 1)
  const chmod = ins.flags.chmod !== undefined ? Number.parseInt(ins.flags.chmod, 8) : undefined
  if (chmod !== undefined && (!/^[0-7]{3,4}$/.test(ins.flags.chmod!) || Number.isNaN(chmod))) throw new UsageError(`${ins.cmd}: invalid --chmod ${JSON.stringify(ins.flags.chmod)}`)
  const chownSpec = ins.flags.chown !== undefined ? processWord(ins.flags.chown, v) : undefined
  const fromFlag = ins.flags.from !== undefined ? processWord(ins.flags.from, v) : undefined
  const shown = `${fromFlag ? `--from=${fromFlag} ` : ''}${chownSpec ? `--chown=${chownSpec} ` : ''}${chmod !== undefined ? `--chmod=${ins.flags.chmod} ` : ''}${words.join(' ')}`
  const step = env.progress.step(title(ins, shown))
  const dirs = await lowerDirs(ctx.store, state.layers.map((l) => l.diffId))
  const owner = chownOwner(chownSpec, dirs)

  let depends: string
  let entries: (() => Promise<LayerEntry[]>) | LayerEntry[]
  if (fromFlag) {
    const depStage = env.stageRef(fromFlag, stage.index)
    const src = depStage ? env.stages.get(depStage.index)! : await imageState(ctx, fromFlag, false, env.lease, stage.platform)
    depends = src.key
    entries = async () => {
      const srcDirs = await lowerDirs(ctx.store, src.layers.map((l) => l.diffId))
      const writer = startDiffTar({mode: 'rootfs', dirs: srcDirs})
      const chunks: Buffer[] = []
      writer.tar.on('data', (c: Buffer) => chunks.push(c))
      await writer.done
      return stageEntries(Buffer.concat(chunks), srcs, dest, chownSpec ? owner : undefined, chmod, ins.cmd)
    }
  } else {
    const list: LayerEntry[] = []
    for (const s of srcs) {
      if (ins.cmd === 'ADD' && /^https?:\/\//i.test(s)) list.push(await urlEntry(s, dest, owner, chmod))
      else if (ins.cmd === 'ADD' && (await env.sources.isArchive(s))) list.push(...(await archiveEntries((await env.sources.isArchive(s))!, {path: dest.path, isDir: true})))
      else list.push(...(await env.sources.entries([s], srcs.length > 1 ? {...dest, isDir: true} : dest, owner, chmod, ins.cmd)))
    }
    entries = list
    depends = await entriesHash(orderEntries(list))
  }
  const key = chainKey(state.key, [ins.cmd, shown, depends])
  let hit = opts.noCache ? undefined : await cacheGet(ctx.store, key)
  if (hit) env.progress.line(step.id, 'CACHED')
  else {
    const list = typeof entries === 'function' ? await entries() : entries
    const destIsDir = dest.isDir || list.some((e) => e.name.startsWith(`${dest.path.replace(/^\//, '')}/`))
    const all = orderEntries([...parentDirs(dest.path, dirs, owner, destIsDir), ...list])
    hit = {created: new Date().toISOString(), layer: await layerOf(ctx, all, env.lease)}
    await cachePut(ctx.store, key, hit)
    env.progress.done(step)
  }
  addLayer(state, hit, `${ins.cmd} ${shown}`)
  await env.lease.add({content: [hit.layer!.digest], layers: [hit.layer!.diffId]})
  state.key = key
}

/** A layer of `entries`, stored and unpacked (the next RUN needs it in the layer store). */
async function layerOf(ctx: Context, entries: LayerEntry[], lease: ProcessLease): Promise<import('../oci/types.js').LayerRecord> {
  const layer = await storeLayerTar(ctx.store, entriesTar(entries))
  await lease.add({content: [layer.digest]})
  await ensureUnpacked(ctx, layer, lease)
  return layer
}

async function ensureUnpacked(ctx: Context, layer: import('../oci/types.js').LayerRecord, lease: ProcessLease): Promise<void> {
  const {hasLayer} = await import('../store/layers.js')
  if (hasLayer(ctx.store, layer.diffId)) return
  const {UnpackSession} = await import('../layer/unpack-layers.js')
  await lease.add({layers: [layer.diffId]})
  const unpacker = UnpackSession.start(ctx.store)
  let ok = false
  try {
    await unpacker.unpack(layer)
    await unpacker.finish()
    ok = true
  } finally {
    if (!ok) await unpacker.abort()
  }
}

