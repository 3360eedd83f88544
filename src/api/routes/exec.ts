/**
 * exec: create (an instance kept in the service's memory, as dockerd does), start (hijacked
 * stream or detached), inspect (Running, ExitCode), resize.
 */
import {randomBytes} from 'node:crypto'
import {PassThrough} from 'node:stream'
import * as engine from '../../engine/containers.js'
import {type ApiCall, ApiError, readJson, sendJson} from '../http.js'
import {hijack, MULTIPLEXED_STREAM, RAW_STREAM, STDERR, STDOUT, streamWriter} from '../stream.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

interface ExecInstance {
  id: string
  containerId: string
  args: string[]
  tty: boolean
  attachStdin: boolean
  attachStdout: boolean
  attachStderr: boolean
  env: string[]
  workdir?: string
  user?: string
  running: boolean
  started: boolean
  exitCode: number | null
  created: number
  size?: {rows: number; cols: number}
  resize?: (rows: number, cols: number) => void
  /** Wakes a start waiting for the client's first size. */
  sized?: () => void
}

/**
 * How long a tty exec's start waits for the client's first size: docker's client (API < 1.42)
 * sends it only after the start's connection is hijacked, and a process that asks for its terminal
 * size at once must already see it.
 */
const FIRST_SIZE_WAIT_MS = 500

/** Instances kept: docker forgets an exec's record some time after it ended; so do we (and bound the map). */
const MAX_EXECS = 1000

export function register(router: Router, deps: ApiDeps): void {
  const execs = new Map<string, ExecInstance>()
  const find = (call: ApiCall): ExecInstance => {
    const e = execs.get(call.params.id ?? '')
    if (!e) throw new ApiError(404, `No such exec instance: ${call.params.id ?? ''}`)
    return e
  }

  router.post('/containers/:id/exec', async (call) => {
    const body = await readJson<Record<string, unknown>>(call)
    const rec = await engine.record(deps.ctx, call.params.id ?? '')
    if (!engine.status(deps.ctx, rec).running) throw new ApiError(409, `Container ${rec.id} is not running`)
    const cmd = body.Cmd
    if (!Array.isArray(cmd) || cmd.length === 0 || cmd.some((x) => typeof x !== 'string')) throw new ApiError(400, 'No exec command specified')
    if (body.Privileged === true) throw new ApiError(400, 'ctr-ts does not run privileged exec processes')
    const id = randomBytes(32).toString('hex')
    if (execs.size >= MAX_EXECS) {
      for (const [k, v] of execs) {
        if (!v.running) {
          execs.delete(k)
          if (execs.size < MAX_EXECS) break
        }
      }
    }
    execs.set(id, {
      id,
      containerId: rec.id,
      args: cmd as string[],
      tty: body.Tty === true,
      attachStdin: body.AttachStdin === true,
      attachStdout: body.AttachStdout === true,
      attachStderr: body.AttachStderr === true,
      env: Array.isArray(body.Env) ? (body.Env as string[]) : [],
      workdir: typeof body.WorkingDir === 'string' && body.WorkingDir ? body.WorkingDir : undefined,
      user: typeof body.User === 'string' && body.User ? body.User : undefined,
      running: false,
      started: false,
      exitCode: null,
      created: Date.now(),
    })
    sendJson(call.res, 201, {Id: id})
  })

  router.post('/exec/:id/start', async (call) => {
    const e = find(call)
    const body = await readJson<Record<string, unknown>>(call)
    if (e.started) throw new ApiError(409, `exec ${e.id} has already been started`)
    e.started = true
    const detach = body.Detach === true
    const tty = body.Tty === true || e.tty
    if (detach) {
      e.running = true
      try {
        e.exitCode = await engine.exec(deps.ctx, e.containerId, {args: e.args, tty: false, interactive: false, detach: true, env: e.env, workdir: e.workdir, user: e.user, hostEnv: {}, io: {stdin: 'ignore', stdout: new PassThrough().resume(), stderr: new PassThrough().resume()}})
      } finally {
        e.running = false
      }
      call.res.writeHead(200, {'Content-Type': 'application/json', 'Content-Length': 0})
      call.res.end()
      return
    }
    const size = body.ConsoleSize
    if (Array.isArray(size) && Number(size[0]) > 0 && Number(size[1]) > 0) e.size = {rows: Number(size[0]), cols: Number(size[1])}
    const h = hijack(call, tty ? RAW_STREAM : MULTIPLEXED_STREAM)
    if (tty && !e.size) {
      let timer: NodeJS.Timeout | undefined
      await new Promise<void>((resolve) => {
        e.sized = resolve
        timer = setTimeout(resolve, FIRST_SIZE_WAIT_MS)
      })
      clearTimeout(timer)
      e.sized = undefined
    }
    const sink = new PassThrough().resume()
    const stdout = e.attachStdout ? streamWriter(h.output, STDOUT, tty) : sink
    const stderr = e.attachStderr ? streamWriter(h.output, tty ? STDOUT : STDERR, tty) : sink
    const stdin = e.attachStdin ? h.input : 'ignore'
    e.running = true
    try {
      // read when the process is spawned: the client's first resize usually comes after the start request
      const pty = tty
        ? {
            get rows() {
              return e.size?.rows ?? 24
            },
            get cols() {
              return e.size?.cols ?? 80
            },
            onResize: (fn: (rows: number, cols: number) => void) => (e.resize = fn),
          }
        : undefined
      e.exitCode = await engine.exec(deps.ctx, e.containerId, {args: e.args, tty, interactive: e.attachStdin, detach: false, env: e.env, workdir: e.workdir, user: e.user, hostEnv: {}, io: {stdin, stdout, stderr, pty}})
    } catch (err) {
      // docker: a command that cannot run is exit code 126/127 and its message on the stream
      const msg = (err as Error).message
      e.exitCode = /not found|no such file/i.test(msg) ? 127 : 126
      stderr.write(`${msg}\n`)
    } finally {
      e.running = false
    }
    await new Promise<void>((resolve) => stdout.end(() => resolve()))
    if (stderr !== stdout) await new Promise<void>((resolve) => stderr.end(() => resolve()))
    h.end()
  })

  router.get('/exec/:id/json', (call) => {
    const e = find(call)
    sendJson(call.res, 200, {
      ID: e.id,
      Running: e.running,
      ExitCode: e.exitCode,
      ProcessConfig: {tty: e.tty, entrypoint: e.args[0], arguments: e.args.slice(1), privileged: false, user: e.user ?? ''},
      OpenStdin: e.attachStdin,
      OpenStderr: e.attachStderr,
      OpenStdout: e.attachStdout,
      CanRemove: false,
      ContainerID: e.containerId,
      DetachKeys: '',
      Pid: 0,
    })
  })

  router.post('/exec/:id/resize', (call) => {
    const e = find(call)
    const rows = Number(call.query.get('h'))
    const cols = Number(call.query.get('w'))
    if (!(rows > 0 && cols > 0)) throw new ApiError(400, 'resize needs h and w')
    e.size = {rows, cols}
    e.sized?.()
    e.resize?.(rows, cols)
    call.res.writeHead(200, {'Content-Length': 0})
    call.res.end()
  })
}
