import {mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import type {Context} from '../context.js'
import {NotFoundError, UsageError} from '../errors.js'
import {layerDir} from '../layer/unpack-layers.js'
import {writeEtcFiles} from '../network/etc-files.js'
import {networkMode} from '../network/mode.js'
import {resolvePublish} from '../network/ports.js'
import type {ImageConfig, ImageRecord} from '../oci/types.js'
import {resolveRuntime} from '../runtime/runtime.js'
import {parseCpus, parseEnvFile, parseMemory} from '../spec/flags.js'
import {generateSpec, type SpecInput} from '../spec/generate.js'
import {checkResourceSupport} from '../spec/resources.js'
import {readRootfsFile, resolveUser} from '../spec/user.js'
import {readImageConfig, resolveImage} from '../store/images.js'
import {findInitBinary} from './init-binary.js'
import {resolveLogConfig} from './log-config.js'
import type {CreateOptions} from './options.js'
import {type ContainerRecord, containerPaths, newContainerId, saveRecord} from './record.js'
import {releaseName, reserveName} from './names.js'
import {removeTree} from '../userns/remove.js'

/** The image for `run`/`create`: from the store, or pulled first like docker does. */
export async function imageForRun(ctx: Context, ref: string, platform?: string): Promise<ImageRecord> {
  try {
    return await resolveImage(ctx.store, ref)
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err
    process.stderr.write(`Unable to find image '${ref}' locally\n`)
    // The registry client (undici) loads only when a pull is needed: it is most of start-up time.
    const {pullImage} = await import('../image/pull.js')
    return pullImage(ctx, ref, {platform})
  }
}

/**
 * Creates a container: resolves (or pulls) the image, reserves the name, writes the record and
 * the OCI bundle. Nothing runs yet. On failure nothing is left behind.
 */
export async function createContainer(ctx: Context, opts: CreateOptions): Promise<ContainerRecord> {
  const {network, allowHostLoopback} = networkMode(opts.network ?? ctx.config.network.default, ctx.config.network.allowHostLoopback)
  const runtime = resolveRuntime(ctx, opts.runtime)
  const logConfig = resolveLogConfig(opts.logOpts, ctx.config.logs)
  const resources = {
    memory: opts.memory !== undefined ? parseMemory(opts.memory) : undefined,
    cpus: opts.cpus !== undefined ? parseCpus(opts.cpus) : undefined,
    pidsLimit: opts.pidsLimit,
  }
  const wantsResources = Object.values(resources).some((v) => v !== undefined)
  if (wantsResources) {
    const support = checkResourceSupport()
    if (!support.ok) throw new UsageError(support.reason)
  }
  const image = await imageForRun(ctx, opts.image, opts.platform)
  const imageConfig: ImageConfig = await readImageConfig(ctx.store, image)
  const ports = resolvePublish(opts.publish, opts.publishAll ? Object.keys(imageConfig.config?.ExposedPorts ?? {}) : [], network)

  const id = newContainerId()
  const paths = containerPaths(ctx, id)
  const name = await reserveName(ctx, opts.name, id)
  try {
    await mkdir(paths.bundle, {recursive: true, mode: 0o700})
    for (const dir of [paths.upper, paths.work, paths.merged]) await mkdir(dir, {recursive: true, mode: 0o755})

    const lowerDirs = image.layers.map((l) => layerDir(ctx.store, l.diffId)).reverse()
    if (lowerDirs.length === 0) {
      const empty = `${paths.dir}/empty`
      await mkdir(empty, {mode: 0o755})
      lowerDirs.push(empty)
    }
    const user = resolveUser(opts.user ?? imageConfig.config?.User, {
      passwd: readRootfsFile(lowerDirs, '/etc/passwd'),
      group: readRootfsFile(lowerDirs, '/etc/group'),
    })
    const envFromFiles: string[] = []
    for (const file of opts.envFiles) {
      const text = await readFile(file, 'utf8').catch(() => {
        throw new UsageError(`cannot read env file ${file}`)
      })
      envFromFiles.push(...parseEnvFile(text))
    }
    const hostname = opts.hostname ?? id.slice(0, 12)
    const etc = await writeEtcFiles({
      dir: paths.etc,
      hostname,
      name,
      network,
      allowHostLoopback,
    })
    const input: SpecInput = {
      image: imageConfig,
      rootfsPath: paths.merged,
      args: opts.args,
      entrypoint: opts.entrypoint,
      env: opts.env,
      envFiles: envFromFiles,
      hostEnv: process.env,
      workdir: opts.workdir,
      user,
      hostname,
      containerId: id,
      tty: opts.tty,
      stdin: opts.interactive,
      readOnly: opts.readOnly,
      mounts: opts.volumes,
      tmpfs: opts.tmpfs,
      init: opts.init ? {hostPath: findInitBinary(ctx)} : undefined,
      network,
      etcFiles: network === 'host' ? {hosts: etc.hosts, hostname: etc.hostname} : etc,
      resources: wantsResources ? resources : undefined,
      capAdd: opts.capAdd,
      capDrop: opts.capDrop,
    }
    const spec = generateSpec(input)
    await writeFile(paths.spec, JSON.stringify(spec, null, 2) + '\n', {mode: 0o600})

    const labels = Object.fromEntries(opts.labels.map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')]))
    const rec: ContainerRecord = {
      id,
      name,
      image: image.id,
      imageRef: image.ref,
      created: new Date().toISOString(),
      args: spec.process.args,
      env: spec.process.env ?? [],
      cwd: spec.process.cwd,
      user: opts.user ?? imageConfig.config?.User ?? '',
      hostname,
      tty: opts.tty,
      stdin: opts.interactive,
      autoRemove: opts.autoRemove,
      init: opts.init,
      readOnly: opts.readOnly,
      runtime: runtime.name,
      network,
      allowHostLoopback,
      lowerDirs,
      stopSignal: imageConfig.config?.StopSignal ?? 'SIGTERM',
      ports,
      labels,
      logConfig,
    }
    await saveRecord(ctx, rec)
    return rec
  } catch (err) {
    await rm(paths.dir, {recursive: true, force: true}).catch(() => removeTree(paths.dir))
    await releaseName(ctx, name, id)
    throw err
  }
}
