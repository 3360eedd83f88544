/**
 * What the global setup (test/harness/global-setup.ts) started and pushed, for e2e tests.
 * The setup writes it as JSON to a file named by CTR_TS_TEST_ENV (and also `provide`s it).
 */
import {readFileSync} from 'node:fs'

export interface FixtureInfo {
  /** e.g. 127.0.0.1:PORT/fixtures/multilayer:gzip */
  ref: string
  manifestDigest: string
  configDigest: string
  layerDigests: string[]
  diffIds: string[]
  /** Set when `ref` names an index / manifest list; the other digests describe one of its entries. */
  indexDigest?: string
}

export interface TestEnv {
  /** 127.0.0.1:PORT, no auth */
  plainRegistry: string
  /** 127.0.0.1:PORT, Bearer token auth from tokenServer */
  authRegistry: string
  /** http://127.0.0.1:PORT (GET /token, GET /_log) */
  tokenServer: string
  fixtures: Record<string, FixtureInfo>
}

export const TEST_ENV_VAR = 'CTR_TS_TEST_ENV'

let cached: TestEnv | undefined

export function testEnv(): TestEnv {
  if (cached) return cached
  const file = process.env[TEST_ENV_VAR]
  if (!file) throw new Error(`${TEST_ENV_VAR} is not set: e2e tests need the global setup (run them with vitest / npm test)`)
  cached = JSON.parse(readFileSync(file, 'utf8')) as TestEnv
  return cached
}

/** The test environment when the global setup ran, else undefined (for helpers usable in unit tests). */
export function maybeTestEnv(): TestEnv | undefined {
  try {
    return testEnv()
  } catch {
    return undefined
  }
}
