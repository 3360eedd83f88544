import {CtrError, TimeoutError} from '../errors.js'
import {classifyNetworkError, type HttpResponse} from './http.js'
import type {TransferLimits} from './limits.js'

export interface PumpOptions {
  limits: TransferLimits
  /** For messages. */
  host: string
  what: string
  /** More than this many bytes aborts at once with `tooLarge()`. */
  maxBytes: number
  tooLarge: (received: number) => CtrError
  onChunk: (chunk: Buffer) => void | Promise<void>
}

/**
 * Consumes a response body under a watchdog: no byte for `stallTimeoutMs`, an average below
 * `minSpeedBps` over `speedWindowMs`, or more than `maxBytes` aborts the transfer with a typed
 * error. Memory stays bounded by what `onChunk` keeps. Returns the number of bytes received.
 */
export async function pumpBody(body: HttpResponse['body'], opts: PumpOptions): Promise<number> {
  const {limits} = opts
  let received = 0
  let failure: CtrError | undefined
  const abort = (err: CtrError) => {
    if (failure) return
    failure = err
    body.on('error', () => {})
    body.destroy(err)
  }

  let stallTimer: NodeJS.Timeout | undefined
  const armStall = () => {
    if (stallTimer) clearTimeout(stallTimer)
    stallTimer = setTimeout(
      () => abort(new TimeoutError(`registry ${opts.host} stalled: no data for ${limits.stallTimeoutMs} ms while downloading ${opts.what}`)),
      limits.stallTimeoutMs,
    )
  }

  // Sliding window of (time, bytes) samples for the trickle check.
  const samples: Array<{t: number; bytes: number}> = [{t: Date.now(), bytes: 0}]
  const tick = Math.max(20, Math.min(1000, Math.floor(limits.speedWindowMs / 5)))
  const speedTimer =
    limits.minSpeedBps > 0
      ? setInterval(() => {
          const now = Date.now()
          samples.push({t: now, bytes: received})
          while (samples.length > 2 && now - samples[1]!.t >= limits.speedWindowMs) samples.shift()
          const first = samples[0]!
          const span = now - first.t
          if (span >= limits.speedWindowMs) {
            const bps = ((received - first.bytes) * 1000) / span
            if (bps < limits.minSpeedBps) {
              abort(
                new TimeoutError(
                  `registry ${opts.host} too slow: ${Math.round(bps)} B/s over ${Math.round(span / 1000)} s (minimum ${limits.minSpeedBps} B/s) while downloading ${opts.what}`,
                ),
              )
            }
          }
        }, tick)
      : undefined

  armStall()
  try {
    for await (const chunk of body) {
      const buf = chunk as Buffer
      received += buf.length
      if (received > opts.maxBytes) {
        abort(opts.tooLarge(received))
        break
      }
      armStall()
      await opts.onChunk(buf)
    }
  } catch (err) {
    if (failure) throw failure
    throw classifyNetworkError(err, {host: opts.host}, limits.stallTimeoutMs)
  } finally {
    if (stallTimer) clearTimeout(stallTimer)
    if (speedTimer) clearInterval(speedTimer)
  }
  if (failure) throw failure
  return received
}
