/**
 * Bounds on what a registry may cost us. Every value can be overridden through the environment
 * (tests use small ones): a registry that stalls, trickles or sends too much gets a bounded wait
 * and a clear error, never a hang or unbounded memory.
 */
export interface TransferLimits {
  /** Connecting (TCP + TLS) may take this long. CTR_TS_CONNECT_TIMEOUT_MS */
  connectTimeoutMs: number
  /** No byte (headers or body) for this long aborts the transfer. CTR_TS_STALL_TIMEOUT_MS */
  stallTimeoutMs: number
  /** Average speed below this many bytes/s over `speedWindowMs` aborts the transfer. CTR_TS_MIN_SPEED_BPS (0: off) */
  minSpeedBps: number
  /** CTR_TS_SPEED_WINDOW_MS */
  speedWindowMs: number
  /** Largest manifest or index accepted. CTR_TS_MAX_MANIFEST_BYTES */
  maxManifestBytes: number
  /** Largest image config accepted. CTR_TS_MAX_CONFIG_BYTES */
  maxConfigBytes: number
  /** Attempts per request on transient errors (5xx, 429, connection resets). CTR_TS_MAX_TRIES */
  maxTries: number
  /** First backoff delay, doubled each retry. CTR_TS_RETRY_BASE_MS */
  retryBaseMs: number
  /** Cap on one backoff delay (also on a Retry-After the registry asks for). CTR_TS_RETRY_MAX_MS */
  retryMaxMs: number
  /** Layers downloaded at once. CTR_TS_CONCURRENT_DOWNLOADS */
  concurrentDownloads: number
}

function num(env: NodeJS.ProcessEnv, name: string, fallback: number, min = 0): number {
  const raw = env[name]
  if (raw === undefined || raw === '') return fallback
  const n = Number(raw)
  return Number.isFinite(n) && n >= min ? n : fallback
}

export function transferLimits(env: NodeJS.ProcessEnv = process.env): TransferLimits {
  return {
    connectTimeoutMs: num(env, 'CTR_TS_CONNECT_TIMEOUT_MS', 15_000, 1),
    stallTimeoutMs: num(env, 'CTR_TS_STALL_TIMEOUT_MS', 30_000, 1),
    minSpeedBps: num(env, 'CTR_TS_MIN_SPEED_BPS', 1024),
    speedWindowMs: num(env, 'CTR_TS_SPEED_WINDOW_MS', 60_000, 1),
    maxManifestBytes: num(env, 'CTR_TS_MAX_MANIFEST_BYTES', 4 * 1024 * 1024, 1),
    maxConfigBytes: num(env, 'CTR_TS_MAX_CONFIG_BYTES', 32 * 1024 * 1024, 1),
    maxTries: Math.floor(num(env, 'CTR_TS_MAX_TRIES', 4, 1)),
    retryBaseMs: num(env, 'CTR_TS_RETRY_BASE_MS', 500),
    retryMaxMs: num(env, 'CTR_TS_RETRY_MAX_MS', 10_000),
    concurrentDownloads: Math.floor(num(env, 'CTR_TS_CONCURRENT_DOWNLOADS', 6, 1)),
  }
}
