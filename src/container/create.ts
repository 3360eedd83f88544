import {chmod, mkdir, readFile, rm, writeFile} from 'node:fs/promises'
import {hostname as osHostname} from 'node:os'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {NotFoundError, UsageError} from '../errors.js'
import {writeEtcFiles} from '../network/etc-files.js'
import {classifyNetworks, networkMode, type NetworkName} from '../network/mode.js'
import {findNetwork, type NetworkRecord, releaseIp, reserveIp} from '../network/records.js'
import {networkStore, sharedEtcFiles} from './networks.js'
import {resolvePublish} from '../network/ports.js'
import type {ImageConfig, ImageRecord} from '../oci/types.js'
import type {PullEventSink} from '../progress/events.js'
import {resolveRuntime} from '../runtime/runtime.js'
import {parseCpus, parseEnvFile, parseMemoryLimit, parseTmpfs} from '../spec/flags.js'
import {generateSpec, type SpecInput} from '../spec/generate.js'
import {checkResourceSupport} from '../spec/resources.js'
import {parseSecurityOpts, resolveSeccomp, seccompFor, seccompLabel} from '../spec/seccomp.js'
import {parseGroup, readRootfsFile, resolveUser} from '../spec/user.js'
import {parsePlatform, platformMatches} from '../image/platform.js'
import {type PullPolicy, resolveGroupAdd} from '../spec/run-flags.js'
import {STOP_SIGNAL_ANNOTATION} from '../spec/generate.js'
import {parseParityFlags, shareableShmDir, writeCidFile} from './run-flags.js'
import {readImageConfig, resolveImage} from '../store/images.js'
import {lowerDirs as layerLowerDirs} from '../store/layers.js'
import {acquireLease, releaseLease} from '../store/leases.js'
import {findInitBinary} from './init-binary.js'
import {healthFromFlags, healthRun, mergeHealth} from './health.js'
import {containerExists} from './lifecycle.js'
import {resolveLogConfig} from './log-config.js'
import {parseRestartPolicy} from './restart-policy.js'
import type {CreateOptions} from './options.js'
import {type ContainerNetwork, type ContainerRecord, containerLeaseId, containerPaths, findContainer, newContainerId, saveRecord} from './record.js'
import {releaseName, reserveName} from './names.js'
import {removeTree} from '../userns/remove.js'
import {attachMounts, type ContainerMount, detachMounts, mountsFrom, planMounts, specMounts} from '../volume/mounts.js'
import {parseVolumesFrom} from '../volume/parse.js'
import {trace} from '../trace.js'
import {recordContainerEvent} from '../events/journal.js'

/** What `create` reports while it works: a missing image is pulled first. */
export interface CreateEvents {
  /** The image is not in the store: a pull starts (docker prints "Unable to find image 'REF' locally"). */
  onPullStart?: (ref: string, reason?: 'missing' | 'always' | 'platform') => void
  /** The pull's progress; without it the pull is quiet. */
  onPullEvent?: PullEventSink
  /** A warning for the user (docker prints `WARNING: ...` on stderr), e.g. ports discarded with --network host. */
  onWarning?: (message: string) => void
}

/**
 * The image for `run`/`create` under a --pull policy: `missing` (docker's default) pulls when the
 * store has no such image, or has it for another platform than --platform asks; `always` pulls
 * every time; `never` only uses the store.
 */
export async function imageForRun(
  ctx: Context,
  ref: string,
  platform: string | undefined,
  events: CreateEvents = {},
  policy: PullPolicy = 'missing',
): Promise<ImageRecord> {
  let local: ImageRecord | undefined
  try {
    local = await resolveImage(ctx.store, ref)
  } catch (err) {
    if (!(err instanceof NotFoundError)) throw err
    if (policy === 'never') throw new NotFoundError(`no such image: ${ref} (and --pull never)`)
  }
  let reason: 'missing' | 'always' | 'platform' = 'missing'
  if (local) {
    if (policy === 'always') {
      reason = 'always'
    } else {
      if (platform === undefined) return local
      const cfg = await readImageConfig(ctx.store, local)
      const have = {os: cfg.os ?? 'linux', architecture: cfg.architecture ?? '', ...(cfg.variant ? {variant: cfg.variant} : {})}
      if (platformMatches(have, parsePlatform(platform))) return local
      if (policy === 'never') throw new NotFoundError(`image ${ref} is not available for platform ${platform} locally (and --pull never)`)
      reason = 'platform'
    }
  }
  events.onPullStart?.(ref, reason)
  // The registry client (undici) loads only when a pull is needed: it is most of start-up time.
  const {pullImage} = await import('../image/pull.js')
  return pullImage(ctx, ref, {platform, onEvent: events.onPullEvent})
}

/**
 * Creates a container: resolves (or pulls) the image, reserves the name, writes the record and
 * the OCI bundle. Nothing runs yet. On failure nothing is left behind.
 */
export async function createContainer(ctx: Context, opts: CreateOptions, events: CreateEvents = {}): Promise<ContainerRecord> {
  const request = classifyNetworks(opts.networks ?? (opts.network !== undefined ? [opts.network] : [])) ?? {kind: 'builtin', value: ctx.config.network.default}
  let network: NetworkName = 'bridge'
  let allowHostLoopback = false
  let userNets: NetworkRecord[] = []
  let netnsTarget: ContainerRecord | undefined
  if (request.kind === 'builtin') ({network, allowHostLoopback} = networkMode(request.value, ctx.config.network.allowHostLoopback))
  else if (request.kind === 'user') userNets = await Promise.all(request.names.map((n) => findNetwork(networkStore(ctx), n)))
  else {
    network = 'container'
    netnsTarget = await findContainer(ctx, request.target)
    if (netnsTarget.network === 'container') throw new UsageError(`container ${netnsTarget.name} shares another container's network: join that one`)
  }
  if (request.kind !== 'user' && (opts.ip !== undefined || (opts.networkAliases ?? []).length > 0)) {
    throw new UsageError('--ip and --network-alias need a user-defined network')
  }
  const runtime = resolveRuntime(ctx, opts.runtime)
  const logConfig = resolveLogConfig(opts.logOpts, ctx.config.logs)
  const restartPolicy = parseRestartPolicy(opts.restart)
  if (restartPolicy.Name !== 'no' && opts.autoRemove) throw new UsageError('conflicting options: cannot specify both --restart and --rm')
  // slirp4netns: the container joins the shim's network namespace, which exists before the
  // container does, so slirp4netns and the port proxy are attached while the runtime creates it
  // (and it outlives a restarting container's process); not with net.* sysctls: runc sets those
  // only in a network namespace it creates itself
  const shimNetns = network === 'slirp4netns' && !(opts.sysctls ?? []).some((s) => s.startsWith('net.'))
  const resources = {
    memory: opts.memory !== undefined ? parseMemoryLimit(opts.memory) : undefined,
    cpus: opts.cpus !== undefined ? parseCpus(opts.cpus) : undefined,
    pidsLimit: opts.pidsLimit,
  }
  const wantsResources = Object.values(resources).some((v) => v !== undefined)
  if (wantsResources) {
    const support = checkResourceSupport()
    if (!support.ok) throw new UsageError(support.reason)
  }
  const security = parseSecurityOpts(opts.securityOpts ?? [])
  // --privileged: no seccomp filter unless one is asked for (docker).
  const seccompChoice = resolveSeccomp(security.seccomp ?? (opts.privileged ? 'unconfined' : ctx.config.security.seccompProfile))
  const noNewPrivileges = security.noNewPrivileges ?? ctx.config.security.noNewPrivileges
  const parity = await parseParityFlags(ctx, opts, network)
  if (opts.platform !== undefined) parsePlatform(opts.platform)
  const image = await imageForRun(ctx, opts.image, opts.platform, events, parity.pull)
  const imageConfig: ImageConfig = await readImageConfig(ctx.store, image)
  if (network === 'container' && (opts.publish.length > 0 || opts.publishAll)) throw new UsageError('--network container: shares the other container\'s ports: publish them there')
  const healthcheck = mergeHealth(opts.healthConfig ?? healthFromFlags(opts.health ?? {}), imageConfig.config?.Healthcheck)
  healthRun(healthcheck) // refuses an unknown type before anything is written
  let publish = opts.publish
  let publishAll = opts.publishAll
  if (network === 'host' && (publish.length > 0 || publishAll)) {
    // docker: a warning, and the container runs with the host's ports.
    events.onWarning?.('Published ports are discarded when using host network mode')
    publish = []
    publishAll = false
  }
  const ports = resolvePublish(publish, publishAll ? Object.keys(imageConfig.config?.ExposedPorts ?? {}) : [], network)

  // Mounts are checked before anything is written: a bad -v leaves nothing behind.
  const tmpfs = opts.tmpfs.map(parseTmpfs)
  const volumesFrom: ContainerMount[] = []
  for (const spec of opts.volumesFrom ?? []) {
    const {container, mode} = parseVolumesFrom(spec)
    volumesFrom.push(...mountsFrom((await findContainer(ctx, container)).mounts, mode))
  }
  const plannedMounts = planMounts({
    imageVolumes: Object.keys(imageConfig.config?.Volumes ?? {}),
    volumesFrom,
    volumeFlags: opts.volumes,
    volumeMounts: opts.volumeMounts ?? [],
    tmpfsDestinations: new Set(tmpfs.map((t) => t.destination)),
  })

  const id = newContainerId()
  const paths = containerPaths(ctx, id)
  const diffIds = image.layers.map((l) => l.diffId)
  // Who is creating it, before anything else names the id: a directory without a record whose
  // creator is gone is a leftover of a killed create (removed by `system prune` and `system check
  // --store --repair`), and a name reserved for it may be taken over (reserveName).
  await mkdir(paths.dir, {recursive: true, mode: 0o700})
  await writeFile(join(paths.dir, 'creating'), `${process.pid}\n`, {mode: 0o600})
  let name: string
  try {
    name = await reserveName(ctx, opts.name, id)
  } catch (err) {
    await rm(paths.dir, {recursive: true, force: true})
    throw err
  }
  let mounts: ContainerMount[] = []
  const attached: ContainerNetwork[] = []
  try {
    for (const [i, net] of userNets.entries()) {
      const ip = await reserveIp(networkStore(ctx), net, id, i === 0 ? opts.ip : undefined, (owner) => containerExists(ctx, owner))
      attached.push({name: net.name, id: net.id, ip, aliases: [...new Set(opts.networkAliases ?? [])]})
    }
    // Then the lease: from now on gc keeps the layers, even if the image is removed meanwhile.
    // (its directories are made meanwhile: all settled before going on, so a failure cleans up whole)
    const steps = await Promise.allSettled([
      acquireLease(ctx.store, containerLeaseId(id), {image: image.id, holder: name, layers: diffIds}),
      mkdir(paths.bundle, {recursive: true, mode: 0o700}),
      ...[paths.upper, paths.work, paths.merged].map((dir) => mkdir(dir, {recursive: true, mode: 0o755})),
    ])
    for (const step of steps) if (step.status === 'rejected') throw step.reason

    const lowerDirs = await layerLowerDirs(ctx.store, diffIds)
    const groupFile = readRootfsFile(lowerDirs, '/etc/group')
    const user = resolveUser(opts.user ?? imageConfig.config?.User, {
      passwd: readRootfsFile(lowerDirs, '/etc/passwd'),
      group: groupFile,
    })
    const groupAdd = resolveGroupAdd(opts.groupAdd ?? [], parseGroup(groupFile))
    const envFromFiles: string[] = []
    for (const file of opts.envFiles) {
      const text = await readFile(file, 'utf8').catch(() => {
        throw new UsageError(`cannot read env file ${file}`)
      })
      envFromFiles.push(...parseEnvFile(text))
    }
    // The volumes (created when missing) now name this container as a user.
    mounts = await trace.phase('volumes: attach', () => attachMounts(ctx.store, plannedMounts, id))
    const volumeSpec = specMounts(mounts)
    // --uts host: the host's name (the container has no UTS namespace to name)
    const hostname = opts.uts === 'host' ? osHostname() : (opts.hostname ?? id.slice(0, 12))
    const etc = netnsTarget
      ? sharedEtcFiles(ctx, netnsTarget)
      : await writeEtcFiles({
          dir: paths.etc,
          hostname,
          name,
          network: network === 'container' ? 'none' : network,
          allowHostLoopback,
          ip: attached[0]?.ip,
          networkDns: userNets[0]?.gateway,
          extraHosts: parity.extraHosts,
          dns: parity.dns,
        })
    const input: SpecInput = {
      image: imageConfig,
      rootfsPath: paths.merged,
      args: opts.args,
      entrypoint: opts.entrypoint,
      env: opts.env,
      envFiles: envFromFiles,
      hostEnv: opts.hostEnv,
      workdir: opts.workdir,
      user,
      hostname,
      containerId: id,
      tty: opts.tty,
      stdin: opts.interactive,
      readOnly: opts.readOnly,
      mounts: [...volumeSpec.binds, ...parity.binds],
      tmpfs: [...tmpfs, ...volumeSpec.tmpfs, ...parity.tmpfs],
      init: opts.init ? {hostPath: opts.initPath ?? findInitBinary(ctx)} : undefined,
      network,
      shimNetns,
      etcFiles: network === 'host' ? {hosts: etc.hosts, hostname: etc.hostname} : etc,
      resources: wantsResources ? resources : undefined,
      capAdd: opts.capAdd,
      capDrop: opts.capDrop,
      noNewPrivileges,
      ...parity.spec,
      groupAdd,
      unmaskSystemPaths: security.unmaskSystemPaths,
    }
    if (opts.ipc === 'shareable') {
      const shm = shareableShmDir(ctx, id)
      await mkdir(shm, {mode: 0o700})
      await chmod(shm, 0o1777)
      input.shmSource = shm
    }
    const spec = generateSpec(input)
    if (parity.stopSignal) spec.annotations = {...spec.annotations, [STOP_SIGNAL_ANNOTATION]: parity.stopSignal}
    // The filter depends on the container's capabilities (docker's includes/excludes).
    const seccomp = seccompFor(seccompChoice, spec.process.capabilities.bounding, undefined, undefined, ctx.run.seccomp)
    if (seccomp) spec.linux.seccomp = seccomp
    await writeFile(paths.spec, JSON.stringify(spec, null, 2) + '\n', {mode: 0o600})

    const labels = Object.fromEntries([...parity.fileLabels, ...opts.labels].map((l) => [l.split('=')[0]!, l.split('=').slice(1).join('=')]))
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
      ...(attached.length > 0 ? {networks: attached} : {}),
      ...(netnsTarget ? {netnsContainer: netnsTarget.id} : {}),
      diffIds,
      ...(ctx.config.rootfs.driver === 'overlay' ? {rootfsDriver: 'overlay' as const} : {}),
      stopSignal: parity.stopSignal ?? imageConfig.config?.StopSignal ?? 'SIGTERM',
      ...(opts.stopTimeout !== undefined ? {stopTimeout: opts.stopTimeout} : {}),
      hostConfig: {...parity.hostConfig, GroupAdd: opts.groupAdd ?? []},
      ...(Object.keys(parity.joinNamespaces).length > 0 ? {joinNamespaces: parity.joinNamespaces} : {}),
      ports,
      labels,
      security: {
        seccomp: seccompLabel(seccompChoice),
        ...(seccompChoice.profile === 'unconfined' ? {} : {seccompFile: seccompChoice.file}),
        noNewPrivileges,
      },
      logConfig,
      ...(healthcheck ? {healthcheck} : {}),
      mounts,
      ...(restartPolicy.Name !== 'no' ? {restartPolicy} : {}),
      ...(shimNetns ? {shimNetns} : {}),
    }
    if (opts.cidfile !== undefined) await writeCidFile(opts.cidfile, id)
    await saveRecord(ctx, rec)
    await rm(join(paths.dir, 'creating'), {force: true})
    recordContainerEvent(ctx.store, rec, 'create')
    return rec
  } catch (err) {
    await rm(paths.dir, {recursive: true, force: true}).catch(() => removeTree(paths.dir))
    await releaseName(ctx, name, id)
    for (const a of attached) await releaseIp(networkStore(ctx), a.name, a.ip, id)
    await releaseLease(ctx.store, containerLeaseId(id)).catch(() => {})
    await detachMounts(ctx.store, mounts, id, {removeAnonymous: true, inUse: (other) => containerExists(ctx, other)}).catch(() => {})
    throw err
  }
}
