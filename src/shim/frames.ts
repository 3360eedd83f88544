/**
 * Frames on a shim's attach socket (shim/PROTOCOL.md): [type u8][length u32 BE][payload].
 * Client → shim: STDIN, STDIN_CLOSE, RESIZE, SIGNAL, START, NO_RESTART. Shim → client: STDOUT, STDERR, EXIT,
 * STARTED, ERROR.
 */
export const FrameType = {
  Stdin: 1,
  StdinClose: 2,
  Resize: 3,
  Signal: 4,
  Start: 5,
  NoRestart: 6,
  HealthCheck: 7,
  Stdout: 17,
  Stderr: 18,
  Exit: 19,
  Started: 20,
  Error: 21,
  Health: 22,
} as const
export type FrameType = (typeof FrameType)[keyof typeof FrameType]

export interface Frame {
  type: number
  payload: Buffer
}

export const HEADER_SIZE = 5
/** Largest payload the decoder accepts (a shim sends at most one read buffer per frame). */
export const MAX_PAYLOAD = 16 * 1024 * 1024

export function encodeFrame(type: number, payload: Uint8Array = Buffer.alloc(0)): Buffer {
  if (!Number.isInteger(type) || type < 0 || type > 255) throw new RangeError(`bad frame type ${type}`)
  const buf = Buffer.allocUnsafe(HEADER_SIZE + payload.length)
  buf.writeUInt8(type, 0)
  buf.writeUInt32BE(payload.length, 1)
  buf.set(payload, HEADER_SIZE)
  return buf
}

export const stdinFrame = (data: Uint8Array): Buffer => encodeFrame(FrameType.Stdin, data)
export const stdinCloseFrame = (): Buffer => encodeFrame(FrameType.StdinClose)
export const startFrame = (): Buffer => encodeFrame(FrameType.Start)
export const healthCheckFrame = (): Buffer => encodeFrame(FrameType.HealthCheck)

/** A HEALTH frame: the check's exit code (i32 BE) and the status after it. */
export function healthResultOf(frame: Frame): {exitCode: number; status: string} {
  if (frame.payload.length < 4) throw new RangeError('HEALTH frame too short')
  return {exitCode: frame.payload.readInt32BE(0), status: frame.payload.subarray(4).toString('utf8')}
}
export const noRestartFrame = (): Buffer => encodeFrame(FrameType.NoRestart)

export function resizeFrame(rows: number, cols: number): Buffer {
  const p = Buffer.alloc(4)
  p.writeUInt16BE(clampU16(rows), 0)
  p.writeUInt16BE(clampU16(cols), 2)
  return encodeFrame(FrameType.Resize, p)
}

export function signalFrame(signo: number): Buffer {
  if (!Number.isInteger(signo) || signo < 1 || signo > 64) throw new RangeError(`bad signal number ${signo}`)
  return encodeFrame(FrameType.Signal, Buffer.from([signo]))
}

export function exitFrame(code: number): Buffer {
  const p = Buffer.alloc(4)
  p.writeInt32BE(code, 0)
  return encodeFrame(FrameType.Exit, p)
}

/** The exit code carried by an EXIT frame. */
export function exitCodeOf(frame: Frame): number {
  if (frame.payload.length < 4) throw new RangeError('EXIT frame too short')
  return frame.payload.readInt32BE(0)
}

function clampU16(n: number): number {
  return Math.max(0, Math.min(0xffff, Math.trunc(n)))
}

/** Incremental decoder: push stream chunks, get complete frames back. */
export class FrameDecoder {
  private chunks: Buffer[] = []
  private buffered = 0

  push(chunk: Uint8Array): Frame[] {
    if (chunk.length > 0) {
      this.chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length))
      this.buffered += chunk.length
    }
    const frames: Frame[] = []
    while (this.buffered >= HEADER_SIZE) {
      const head = this.peek(HEADER_SIZE)
      const length = head.readUInt32BE(1)
      if (length > MAX_PAYLOAD) throw new RangeError(`frame payload too large (${length} bytes)`)
      if (this.buffered < HEADER_SIZE + length) break
      const whole = this.take(HEADER_SIZE + length)
      frames.push({type: whole[0]!, payload: whole.subarray(HEADER_SIZE)})
    }
    return frames
  }

  /** Bytes received that do not yet make a complete frame. */
  get pending(): number {
    return this.buffered
  }

  private peek(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0]!.subarray(0, n)
  }

  private take(n: number): Buffer {
    if (this.chunks[0]!.length < n) this.chunks = [Buffer.concat(this.chunks)]
    const first = this.chunks[0]!
    const out = first.subarray(0, n)
    if (first.length === n) this.chunks.shift()
    else this.chunks[0] = first.subarray(n)
    this.buffered -= n
    return out
  }
}
