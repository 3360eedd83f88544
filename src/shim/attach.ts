import {EventEmitter} from 'node:events'
import {connect as netConnect, type Socket} from 'node:net'
import {RuntimeError} from '../errors.js'
import {
  exitCodeOf,
  FrameDecoder,
  healthCheckFrame,
  healthResultOf,
  FrameType,
  resizeFrame,
  signalFrame,
  noRestartFrame, startFrame,
  stdinCloseFrame,
  stdinFrame,
  type Frame,
} from './frames.js'

export interface AttachClientEvents {
  stdout: [data: Buffer]
  stderr: [data: Buffer]
  /** The container exited with this code (128+N when killed by signal N). */
  exit: [code: number]
  /** An ERROR frame that did not answer a start(). */
  'shim-error': [message: string]
  /** The connection is gone (after exit, or on detach/shim death). */
  close: []
}

/**
 * A connection to a shim's attach socket (STATEDIR/attach.sock). Any number of clients may be
 * attached; each gets the container's output from the moment it connects. Disconnecting
 * (close()) detaches without affecting the container.
 */
export class AttachClient extends EventEmitter<AttachClientEvents> {
  private readonly decoder = new FrameDecoder()
  private pendingStart?: {resolve: () => void; reject: (err: Error) => void}
  private pendingHealth?: {resolve: (r: {exitCode: number; status: string}) => void; reject: (err: Error) => void}
  private exitCode?: number
  private closed = false

  private constructor(private readonly socket: Socket) {
    super()
    socket.on('data', (chunk: Buffer) => this.onData(chunk))
    socket.on('error', () => {}) // 'close' follows; callers learn through the close event
    socket.on('close', () => this.onClose())
  }

  /** Connects to a shim; rejects with RuntimeError when no shim listens there. */
  static connect(socketPath: string): Promise<AttachClient> {
    return new Promise((resolve, reject) => {
      const socket = netConnect(socketPath)
      const onError = (err: NodeJS.ErrnoException) => {
        reject(new RuntimeError(`cannot attach to the container's shim at ${socketPath}: ${err.code ?? err.message}`, {cause: err}))
      }
      socket.once('error', onError)
      socket.once('connect', () => {
        socket.off('error', onError)
        resolve(new AttachClient(socket))
      })
    })
  }

  /** Writes to the container's stdin (needs --stdin on the shim; ignored otherwise). */
  sendStdin(data: Uint8Array): boolean {
    return this.write(stdinFrame(data))
  }

  /** Closes the container's stdin (with a tty: sends ^D). */
  closeStdin(): void {
    this.write(stdinCloseFrame())
  }

  resize(rows: number, cols: number): void {
    this.write(resizeFrame(rows, cols))
  }

  signal(signo: number): void {
    this.write(signalFrame(signo))
  }

  /** Ends the restart policy: the user stops the container (a waiting restart is cancelled). */
  endRestartPolicy(): void {
    this.write(noRestartFrame())
  }

  /** Starts a created container: resolves on STARTED, rejects with RuntimeError on ERROR. */
  start(): Promise<void> {
    if (this.pendingStart) return Promise.reject(new RuntimeError('start already in progress'))
    return new Promise((resolve, reject) => {
      this.pendingStart = {resolve, reject}
      if (!this.write(startFrame()) && this.closed) this.failStart('the shim closed the connection')
    })
  }

  /** Runs one healthcheck now (HEALTHCHECK frame): its exit code and the status after it; RuntimeError on ERROR. */
  healthcheck(): Promise<{exitCode: number; status: string}> {
    if (this.pendingHealth) return Promise.reject(new RuntimeError('a healthcheck is already in progress'))
    return new Promise((resolve, reject) => {
      this.pendingHealth = {resolve, reject}
      if (!this.write(healthCheckFrame()) && this.closed) this.failHealth('the shim closed the connection')
    })
  }

  /** Resolves with the container's exit code; rejects if the connection ends without one. */
  waitExit(): Promise<number> {
    if (this.exitCode !== undefined) return Promise.resolve(this.exitCode)
    return new Promise((resolve, reject) => {
      if (this.closed) return reject(new RuntimeError('the shim closed the connection without an exit code'))
      const onExit = (code: number) => {
        this.off('close', onClose)
        resolve(code)
      }
      const onClose = () => {
        this.off('exit', onExit)
        reject(new RuntimeError('the shim closed the connection without an exit code'))
      }
      this.once('exit', onExit)
      this.once('close', onClose)
    })
  }

  /** Detaches (the container keeps running). */
  close(): void {
    this.socket.end()
    this.socket.destroySoon()
  }

  /** Waits until the socket's write buffer has drained (for backpressure on stdin). */
  drained(): Promise<void> {
    if (!this.socket.writableNeedDrain) return Promise.resolve()
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done)
        this.socket.off('close', done)
        resolve()
      }
      this.socket.once('drain', done)
      this.socket.once('close', done)
    })
  }

  get isClosed(): boolean {
    return this.closed
  }

  private write(frame: Buffer): boolean {
    if (this.closed || this.socket.destroyed || !this.socket.writable) return false
    return this.socket.write(frame)
  }

  private onData(chunk: Buffer): void {
    let frames: Frame[]
    try {
      frames = this.decoder.push(chunk)
    } catch (err) {
      this.socket.destroy(err as Error)
      return
    }
    for (const frame of frames) this.onFrame(frame)
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Stdout:
        this.emit('stdout', frame.payload)
        break
      case FrameType.Stderr:
        this.emit('stderr', frame.payload)
        break
      case FrameType.Exit:
        this.exitCode = exitCodeOf(frame)
        this.emit('exit', this.exitCode)
        break
      case FrameType.Started: {
        const p = this.pendingStart
        this.pendingStart = undefined
        p?.resolve()
        break
      }
      case FrameType.Health: {
        const p = this.pendingHealth
        this.pendingHealth = undefined
        p?.resolve(healthResultOf(frame))
        break
      }
      case FrameType.Error: {
        const message = frame.payload.toString('utf8')
        if (this.pendingStart) this.failStart(message)
        else if (this.pendingHealth) this.failHealth(message)
        else this.emit('shim-error', message)
        break
      }
      default:
        break // unknown frames are ignored (forward compatibility)
    }
  }

  private failStart(message: string): void {
    const p = this.pendingStart
    this.pendingStart = undefined
    p?.reject(new RuntimeError(message))
  }

  private failHealth(message: string): void {
    const p = this.pendingHealth
    this.pendingHealth = undefined
    p?.reject(new RuntimeError(message))
  }

  private onClose(): void {
    if (this.closed) return
    this.closed = true
    if (this.pendingHealth) this.failHealth('the container exited during the healthcheck')
    if (this.pendingStart) this.failStart('the shim closed the connection before the container started')
    this.emit('close')
  }
}
