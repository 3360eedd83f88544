/**
 * docker's stream formats: the multiplexed one (an 8-byte header per frame: stream type 0/1/2,
 * three zero bytes, the payload's length big-endian) for containers without a TTY, raw bytes for
 * TTY ones; and connection hijacking for attach and exec start (`Upgrade: tcp` → 101, then the
 * raw connection both ways; without Upgrade a 200 whose body is the stream).
 */
import type {Duplex, Readable} from 'node:stream'
import {Writable} from 'node:stream'
import type {ApiCall} from './http.js'

export const STDIN = 0
export const STDOUT = 1
export const STDERR = 2

export const RAW_STREAM = 'application/vnd.docker.raw-stream'
export const MULTIPLEXED_STREAM = 'application/vnd.docker.multiplexed-stream'

/** One frame of the multiplexed format. */
export function frame(stream: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(8)
  header[0] = stream
  header.writeUInt32BE(payload.length, 4)
  return Buffer.concat([header, payload])
}

/** Parses frames out of a byte stream (for tests and clients); returns the complete frames and the rest. */
export function parseFrames(buf: Buffer): {frames: Array<{stream: number; payload: Buffer}>; rest: Buffer} {
  const frames: Array<{stream: number; payload: Buffer}> = []
  let off = 0
  while (buf.length - off >= 8) {
    const len = buf.readUInt32BE(off + 4)
    if (buf.length - off - 8 < len) break
    frames.push({stream: buf[off]!, payload: buf.subarray(off + 8, off + 8 + len)})
    off += 8 + len
  }
  return {frames, rest: buf.subarray(off)}
}

/**
 * What one client may leave unread before the service drops it: a container's output does not
 * wait for a slow client (as with docker), so without a bound a client that stops reading would
 * grow the service's memory without end.
 */
export const MAX_UNREAD = 8 * 1024 * 1024

/** Writes `data` to a client's stream; a client more than MAX_UNREAD behind is disconnected. */
export function writeBounded(out: NodeJS.WritableStream, data: Buffer): void {
  const w = out as Writable
  if (w.destroyed || w.writableEnded) return
  if (w.writableLength > MAX_UNREAD) {
    w.destroy()
    return
  }
  w.write(data)
}

/** A Writable that writes each chunk to `out` as one frame of `stream` (or as it is when `raw`). */
export function streamWriter(out: NodeJS.WritableStream, stream: number, raw: boolean): Writable {
  return new Writable({
    highWaterMark: 64 * 1024,
    write(chunk: Buffer, _enc, cb) {
      if (chunk.length > 0) writeBounded(out, raw ? chunk : frame(stream, chunk))
      cb()
    },
  })
}

export interface Hijacked {
  /** The client's bytes (attach stdin), after the request. */
  input: Readable
  /** Where the stream goes. */
  output: Duplex | NodeJS.WritableStream
  /** True when the connection was upgraded (the client can half-close its side). */
  upgraded: boolean
  end(): void
  /** Resolves when the client goes away. */
  closed: Promise<void>
}

/**
 * Takes over the connection: with `Upgrade: tcp` a 101 and the raw socket; otherwise a 200 with
 * the stream's content type and the response as the stream (the request as its input).
 */
export function hijack(call: ApiCall, contentType: string): Hijacked {
  if (call.upgrade) {
    const {socket} = call.upgrade
    call.res.detachSocket(socket as import('node:net').Socket)
    socket.write(`HTTP/1.1 101 UPGRADED\r\nContent-Type: ${contentType}\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nApi-Version: 1.41\r\n\r\n`)
    if (call.upgrade.head.length) socket.unshift(call.upgrade.head)
    const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()))
    return {
      input: socket,
      output: socket,
      upgraded: true,
      end: () => {
        if (!socket.destroyed) socket.end()
        // a client that never half-closes its side: do not keep the socket forever
        setTimeout(() => socket.destroy(), 2000).unref()
      },
      closed,
    }
  }
  call.res.writeHead(200, {'Content-Type': contentType})
  call.res.flushHeaders()
  const closed = new Promise<void>((resolve) => call.res.once('close', () => resolve()))
  return {input: call.req, output: call.res, upgraded: false, end: () => call.res.end(), closed}
}
