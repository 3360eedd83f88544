import {setTimeout as sleep} from 'node:timers/promises'
import {TransientError} from '../errors.js'
import type {TransferLimits} from './limits.js'

/**
 * Runs `fn`, retrying TransientErrors (5xx, 429, reset connections) with exponential backoff,
 * at most `maxTries` attempts in all. Any other error is thrown at once.
 */
export async function withRetry<T>(
  fn: (attempt: number) => Promise<T>,
  limits: Pick<TransferLimits, 'maxTries' | 'retryBaseMs' | 'retryMaxMs'>,
  onRetry?: (err: TransientError, delayMs: number, attempt: number) => void,
): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt)
    } catch (err) {
      if (!(err instanceof TransientError) || attempt >= limits.maxTries) {
        if (err instanceof TransientError && limits.maxTries > 1) {
          throw new TransientError(`${err.message} (gave up after ${attempt} attempts)`, undefined, {cause: err})
        }
        throw err
      }
      const backoff = Math.min(limits.retryBaseMs * 2 ** (attempt - 1), limits.retryMaxMs)
      const delay = err.retryAfterMs !== undefined ? Math.min(Math.max(err.retryAfterMs, backoff / 2), limits.retryMaxMs) : backoff
      const jittered = Math.round(delay * (0.8 + Math.random() * 0.4))
      onRetry?.(err, jittered, attempt)
      await sleep(jittered)
    }
  }
}
