/** Container streams: logs, attach (hijacked), resize, and archive (GET, HEAD, PUT: docker cp). */
import {basename} from 'node:path'
import {PassThrough, type Readable} from 'node:stream'
import {extract as tarExtract, type Header as Headers} from 'tar-stream'
import * as engine from '../../engine/containers.js'
import {copy} from '../../engine/copy.js'
import {parseDockerTime} from '../../cli/docker-time.js'
import {type ApiCall, ApiError, queryBool, queryInt, sendNoContent} from '../http.js'
import {hijack, MULTIPLEXED_STREAM, RAW_STREAM, STDERR, STDOUT, frame, streamWriter, writeBounded} from '../stream.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'
import type {AttachRegistry} from './attach-registry.js'

function param(call: ApiCall): string {
  const v = call.params.id
  if (!v) throw new ApiError(400, 'missing id')
  return v
}

function timeQuery(call: ApiCall, name: string): number | undefined {
  const v = call.query.get(name)
  if (v === null || v === '' || v === '0') return undefined
  try {
    return parseDockerTime(v, Date.now(), name)
  } catch (err) {
    throw new ApiError(400, (err as Error).message)
  }
}

async function logs(call: ApiCall, deps: ApiDeps): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  const stdout = queryBool(call.query, 'stdout')
  const stderr = queryBool(call.query, 'stderr')
  if (!stdout && !stderr) throw new ApiError(400, 'Bad parameters: you must choose at least one stream')
  const tailText = call.query.get('tail')
  const tail = tailText === null || tailText === '' || tailText === 'all' ? undefined : Number(tailText)
  if (tail !== undefined && !Number.isInteger(tail)) throw new ApiError(400, `invalid tail: ${tailText}`)
  const sinceMs = timeQuery(call, 'since')
  const untilMs = timeQuery(call, 'until')
  const raw = rec.tty
  const res = call.res
  res.writeHead(200, {'Content-Type': raw ? RAW_STREAM : MULTIPLEXED_STREAM})
  res.flushHeaders()
  const abort = new AbortController()
  res.on('close', () => abort.abort())
  await engine.logs(deps.ctx, rec.id, {
    follow: queryBool(call.query, 'follow'),
    tail: tail !== undefined && tail >= 0 ? tail : undefined,
    timestamps: queryBool(call.query, 'timestamps'),
    sinceMs,
    untilMs,
    signal: abort.signal,
    write: (stream, text) => {
      if ((stream === 'stdout' && !stdout) || (stream === 'stderr' && !stderr) || res.destroyed) return
      const b = Buffer.from(text, 'utf8')
      writeBounded(res, raw ? b : frame(stream === 'stdout' ? STDOUT : STDERR, b))
    },
  })
  res.end()
}

/** docker attach: hijacked; output framed (raw for a TTY), stdin to the container. Before start: waits for the start. */
async function attach(call: ApiCall, deps: ApiDeps, attaches: AttachRegistry): Promise<void> {
  const rec = await engine.record(deps.ctx, param(call))
  const q = call.query
  const wantStdin = queryBool(q, 'stdin') && rec.stdin
  const wantStdout = queryBool(q, 'stdout')
  const wantStderr = queryBool(q, 'stderr')
  const stream = queryBool(q, 'stream')
  const detachKeys = q.get('detachKeys') ?? 'ctrl-p,ctrl-q'
  const raw = rec.tty
  const h = hijack(call, raw ? RAW_STREAM : MULTIPLEXED_STREAM)
  const out = h.output
  if (queryBool(q, 'logs')) {
    await engine.logs(deps.ctx, rec.id, {
      follow: false,
      timestamps: false,
      write: (s, text) => {
        if ((s === 'stdout' && !wantStdout) || (s === 'stderr' && !wantStderr)) return
        const b = Buffer.from(text, 'utf8')
        out.write(raw ? b : frame(s === 'stdout' ? STDOUT : STDERR, b))
      },
    })
  }
  if (!stream) return h.end()
  const nowhere = new PassThrough()
  nowhere.resume()
  const stdout = wantStdout ? streamWriter(out, STDOUT, raw) : nowhere
  const stderr = wantStderr ? streamWriter(out, STDERR, raw) : nowhere
  const input = wantStdin ? h.input : new PassThrough()
  const io = {stdin: input, stdout, stderr} as unknown as engine.SessionIO
  const gone = new AbortController()
  void h.closed.then(() => gone.abort())
  const session: engine.SessionOptions = {tty: rec.tty, stdin: wantStdin, detachKeys, sigProxy: false, io, signal: gone.signal}
  const result = new Promise<engine.SessionResult>((resolve) => {
    if (engine.status(deps.ctx, rec).running) {
      engine.attach(deps.ctx, rec.id, session).then(resolve, () => resolve({detached: false, exitCode: 0}))
      return
    }
    const remove = attaches.add(rec.id, {session, done: resolve})
    void h.closed.then(() => {
      remove()
      resolve({detached: true})
    })
  })
  await result
  // the frames written before the exit first
  await new Promise<void>((resolve) => stdout.end(() => resolve()))
  if (stderr !== stdout) await new Promise<void>((resolve) => stderr.end(() => resolve()))
  h.end()
}

async function resize(call: ApiCall, deps: ApiDeps): Promise<void> {
  const h = queryInt(call.query, 'h')
  const w = queryInt(call.query, 'w')
  if (!h || !w || h < 0 || w < 0) throw new ApiError(400, 'resize needs h and w')
  await engine.resize(deps.ctx, param(call), h, w)
  call.res.writeHead(200, {'Content-Length': 0})
  call.res.end()
}

/** Go's os.FileMode bits docker's client reads (IsDir, symlinks) from the tar header's type. */
function goFileMode(h: Headers): number {
  const perm = (h.mode ?? 0) & 0o7777
  if (h.type === 'directory') return (perm | 0x80000000) >>> 0
  if (h.type === 'symlink') return (perm | 0x8000000) >>> 0
  return perm
}

function pathStat(path: string, h: Headers) {
  return {
    name: h.type === 'directory' || h.name === undefined ? basename(path.replace(/\/+(\.)?$/, '')) || '/' : basename(h.name.replace(/\/+$/, '')),
    size: h.size ?? 0,
    mode: goFileMode(h),
    mtime: (h.mtime ?? new Date(0)).toISOString(),
    linkTarget: h.linkname ?? '',
  }
}

/**
 * Reads a container path as a tar (the same helper as `cp`) far enough to know its first entry,
 * for docker's X-Docker-Container-Path-Stat; then either the whole tar follows or it stops there.
 */
async function archiveWithStat(deps: ApiDeps, id: string, path: string, body: boolean, res: ApiCall['res']): Promise<void> {
  const tar = new PassThrough()
  const copying = copy(deps.ctx, {container: id, path}, {path: '-'}, {archive: true, follow: false, stdin: new PassThrough(), stdout: tar})
  const buffered: Buffer[] = []
  const first = await new Promise<Headers | undefined>((resolve, reject) => {
    const ex = tarExtract()
    let done = false
    // every byte read goes to `buffered` until the first entry is known; then the reading stops
    // (the rest is piped as it is, after what was buffered)
    const onData = (chunk: Buffer) => {
      buffered.push(chunk)
      ex.write(chunk)
    }
    ex.on('entry', (header, s, next) => {
      if (!done) {
        done = true
        tar.off('data', onData)
        tar.pause()
        resolve(header)
      }
      s.resume()
      next()
    })
    ex.on('error', () => undefined)
    tar.on('data', onData)
    tar.on('end', () => {
      if (!done) resolve(undefined)
    })
    copying.catch((err: unknown) => {
      if (!done) reject(err)
    })
  })
  if (!first) {
    await copying
    throw new ApiError(404, `Could not find the file ${path} in container ${id}`)
  }
  const stat = Buffer.from(JSON.stringify(pathStat(path, first))).toString('base64')
  if (!body) {
    res.writeHead(200, {'X-Docker-Container-Path-Stat': stat, 'Content-Type': 'application/x-tar'})
    res.end()
    tar.destroy()
    await copying.catch(() => undefined)
    return
  }
  res.writeHead(200, {'X-Docker-Container-Path-Stat': stat, 'Content-Type': 'application/x-tar'})
  for (const b of buffered) res.write(b)
  const sent = new Promise<void>((resolve) => {
    tar.once('end', resolve)
    res.once('close', resolve)
  })
  tar.pipe(res)
  tar.resume()
  res.on('close', () => tar.destroy())
  try {
    await copying
    tar.end()
    await sent
  } catch (err) {
    res.destroy()
    throw err
  }
}

async function archiveGet(call: ApiCall, deps: ApiDeps, body: boolean): Promise<void> {
  const path = call.query.get('path')
  if (!path) throw new ApiError(400, 'path is required')
  const rec = await engine.record(deps.ctx, param(call))
  try {
    await archiveWithStat(deps, rec.id, path, body, call.res)
  } catch (err) {
    if (!call.res.headersSent && /no such file|not found|does not exist/i.test((err as Error).message)) throw new ApiError(404, `Could not find the file ${path} in container ${rec.name}`)
    throw err
  }
}

async function archivePut(call: ApiCall, deps: ApiDeps): Promise<void> {
  const path = call.query.get('path')
  if (!path) throw new ApiError(400, 'path is required')
  const rec = await engine.record(deps.ctx, param(call))
  const dest = path.endsWith('/') ? path : `${path}/`
  try {
    await copy(deps.ctx, {path: '-'}, {container: rec.id, path: dest}, {archive: false, follow: false, stdin: call.req as Readable, stdout: new PassThrough()})
  } catch (err) {
    if (/no such file|not found|does not exist/i.test((err as Error).message)) throw new ApiError(404, `Could not find the file ${path} in container ${rec.name}`)
    throw err
  }
  sendNoContent(call.res, 200)
}

export function register(router: Router, deps: ApiDeps, attaches: AttachRegistry): void {
  router.get('/containers/:id/logs', (c) => logs(c, deps))
  router.post('/containers/:id/attach', (c) => attach(c, deps, attaches))
  router.post('/containers/:id/resize', (c) => resize(c, deps))
  router.get('/containers/:id/archive', (c) => archiveGet(c, deps, true))
  router.head('/containers/:id/archive', (c) => archiveGet(c, deps, false))
  router.put('/containers/:id/archive', (c) => archivePut(c, deps))
}
