import {randomBytes} from 'node:crypto'
import {lstat, rmdir, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {PassThrough, Readable} from 'node:stream'
import type {Context} from '../context.js'
import {createContainer} from '../container/create.js'
import {removeContainer} from '../container/lifecycle.js'
import {containerPaths} from '../container/record.js'
import {relaySession, type SessionIO} from '../container/session.js'
import {startContainer} from '../container/start.js'
import {BuildError} from '../errors.js'
import {recordLocalImage} from '../image/local-image.js'
import {storeLayerTar} from '../image/layer-blob.js'
import {startDiffTar} from '../layer/diff-tar-run.js'
import type {ImageConfig, LayerRecord} from '../oci/types.js'
import {imageRecordPath} from '../store/images.js'
import type {ProcessLease} from '../store/leases.js'

/** A stage's image state while it builds. */
export interface BuildState {
  config: ImageConfig
  layers: LayerRecord[]
  /** The cache chain key of the state. */
  key: string
}


export interface RunStep {
  state: BuildState
  argv: string[]
  /** Build args in scope (KEY=VALUE), given to the command's environment only. */
  env: string[]
  network?: string
  /** RUN output, line by line. */
  out: NodeJS.WritableStream
  lease: ProcessLease
  text: string
}

/**
 * The runtime's empty mount-point files in /etc: the diff writer leaves them out, but their
 * directory would still come along as a change of the step; without them, an /etc the step did
 * not touch is not in its layer (as with docker).
 */
async function dropMountPoints(upper: string): Promise<void> {
  for (const f of ['hosts', 'hostname', 'resolv.conf']) {
    const path = join(upper, 'etc', f)
    const st = await lstat(path).catch(() => undefined)
    if (st?.isFile() && st.size === 0) await unlink(path).catch(() => {})
  }
  await rmdir(join(upper, 'etc')).catch(() => {})
}

/** A container on the state's image runs `argv`; its changes become one layer. */
export async function runStep(ctx: Context, step: RunStep): Promise<LayerRecord> {
  const tmpRef = `localhost/ctr-ts-build-step:${randomBytes(8).toString('hex')}`
  await recordLocalImage(ctx, {config: Buffer.from(JSON.stringify(step.state.config)), layers: step.state.layers, refs: [tmpRef]}, step.lease)
  try {
    const rec = await createContainer(ctx, {
      image: tmpRef,
      args: step.argv.slice(1),
      entrypoint: step.argv[0]!,
      env: step.env,
      envFiles: [],
      hostEnv: {},
      volumes: [],
      tmpfs: [],
      init: false,
      readOnly: false,
      tty: false,
      interactive: false,
      autoRemove: false,
      publish: [],
      publishAll: false,
      capAdd: [],
      capDrop: [],
      labels: [],
      logOpts: [],
      ...(step.network ? {network: step.network} : {}),
    })
    try {
      const stdin = Readable.from([])
      const sink = Object.assign(new PassThrough(), {on: PassThrough.prototype.on, off: PassThrough.prototype.off})
      sink.pipe(step.out as NodeJS.WritableStream, {end: false})
      const io = {stdin, stdout: sink, stderr: sink} as unknown as SessionIO
      let result: ReturnType<typeof relaySession> | undefined
      await startContainer(ctx, rec, {attach: true, beforeStart: (client) => (result = relaySession(client, {tty: false, stdin: false, detachKeys: '', sigProxy: true, io}))})
      const done = await result!
      sink.end()
      const code = done.detached ? -1 : done.exitCode
      if (code !== 0) throw new BuildError(`process "${step.argv.join(' ')}" did not complete successfully: exit code: ${code}`)
      const upper = containerPaths(ctx, rec.id).upper
      await dropMountPoints(upper)
      const writer = startDiffTar({mode: 'diff', dir: upper})
      const [layer] = await Promise.all([storeLayerTar(ctx.store, writer.tar), writer.done])
      await step.lease.add({content: [layer.digest]})
      return layer
    } finally {
      await removeContainer(ctx, rec, true).catch(() => {})
    }
  } finally {
    await unlink(imageRecordPath(ctx.store, tmpRef)).catch(() => {})
  }
}

