import {constants as os} from 'node:os'
import {UsageError} from '../errors.js'
import type {AttachClient} from '../shim/attach.js'

export interface SessionOptions {
  tty: boolean
  stdin: boolean
  /** docker's syntax: "ctrl-p,ctrl-q" or single characters, comma separated. */
  detachKeys: string
  /** Forward SIGINT/SIGTERM/SIGHUP/SIGUSR1/SIGUSR2 received by the CLI to the container. */
  sigProxy: boolean
  /** The terminal (or streams) of the front end. */
  io: SessionIO
  /** Ends the session as a detach (the API service: its client went away). */
  signal?: AbortSignal
}

/** The front end's streams: a TTY stdin gets raw mode, a TTY stdout is followed for its size. */
export interface SessionIO {
  stdin: NodeJS.ReadableStream & {isTTY?: boolean; setRawMode?: (mode: boolean) => unknown}
  stdout: NodeJS.WritableStream & {rows?: number; columns?: number; on(event: 'resize', fn: () => void): unknown; off(event: 'resize', fn: () => void): unknown}
  stderr: NodeJS.WritableStream
}

export type SessionResult = {detached: true} | {detached: false; exitCode: number}

export function parseDetachKeys(spec: string): Buffer {
  if (spec === '') return Buffer.alloc(0)
  const bytes = spec.split(',').map((key) => {
    const k = key.trim().toLowerCase()
    const ctrl = /^ctrl-([a-z@\[\\\]^_])$/.exec(k)
    if (ctrl) return ctrl[1]!.charCodeAt(0) & 0x1f
    if (k.length === 1) return k.charCodeAt(0)
    throw new UsageError(`invalid detach key "${key}": use ctrl-<key> or single characters, comma separated`)
  })
  return Buffer.from(bytes)
}

/**
 * Connects the CLI's terminal to a container through its shim: output frames to our stdout and
 * stderr, our stdin to the container (raw mode with a tty, window size kept in sync), the detach
 * key sequence, and signals. Resolves with the exit code, or `detached`.
 */
export function relaySession(client: AttachClient, opts: SessionOptions): Promise<SessionResult> {
  const detach = parseDetachKeys(opts.detachKeys)
  const {stdin, stdout, stderr} = opts.io
  const rawMode = opts.tty && opts.stdin && stdin.isTTY === true && stdin.setRawMode !== undefined
  return new Promise<SessionResult>((resolve) => {
    let matched = 0
    let finished = false
    const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGUSR1', 'SIGUSR2']
    const onSignal = (sig: NodeJS.Signals) => client.signal(os.signals[sig])
    const onResize = () => {
      if (stdout.rows && stdout.columns) client.resize(stdout.rows, stdout.columns)
    }
    const onData = (chunk: Buffer) => {
      if (!opts.tty || detach.length === 0) {
        client.sendStdin(chunk)
        return
      }
      // Hold back a partial detach sequence; pass it on when the next byte breaks the match.
      const out: number[] = []
      for (const byte of chunk) {
        if (byte === detach[matched]) {
          matched++
          if (matched === detach.length) {
            if (out.length > 0) client.sendStdin(Buffer.from(out))
            finish({detached: true})
            return
          }
          continue
        }
        if (matched > 0) out.push(...detach.subarray(0, matched))
        matched = byte === detach[0] ? 1 : 0
        if (matched === 0) out.push(byte)
      }
      if (out.length > 0) client.sendStdin(Buffer.from(out))
    }
    const onEnd = () => client.closeStdin()
    const finish = (result: SessionResult) => {
      if (finished) return
      finished = true
      if (opts.sigProxy) for (const s of signals) process.off(s, onSignal)
      if (opts.tty) stdout.off('resize', onResize)
      if (opts.stdin) {
        stdin.off('data', onData)
        stdin.off('end', onEnd)
        if (rawMode) stdin.setRawMode!(false)
        stdin.pause()
      }
      client.close()
      resolve(result)
    }

    client.on('stdout', (b: Buffer) => stdout.write(b))
    client.on('stderr', (b: Buffer) => stderr.write(b))
    client.on('exit', (code: number) => {
      // Let the output written before the exit frame drain first.
      stdout.write('', () => finish({detached: false, exitCode: code}))
    })
    client.on('close', () => finish({detached: false, exitCode: 125}))
    if (opts.signal) {
      if (opts.signal.aborted) finish({detached: true})
      else opts.signal.addEventListener('abort', () => finish({detached: true}), {once: true})
    }

    if (opts.sigProxy) for (const s of signals) process.on(s, onSignal)
    if (opts.tty) {
      stdout.on('resize', onResize)
      onResize()
    }
    if (opts.stdin) {
      if (rawMode) stdin.setRawMode!(true)
      stdin.on('data', onData)
      stdin.on('end', onEnd)
      stdin.resume()
    }
  })
}
