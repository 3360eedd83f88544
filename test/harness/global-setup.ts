/**
 * vitest globalSetup for the e2e project: starts the token server and both registries, builds
 * and pushes every fixture once, and hands the result to tests (JSON file named by
 * CTR_TS_TEST_ENV, plus vitest's provide('ctrTsTestEnv')). The returned teardown stops everything.
 */
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import type {TestProject} from 'vitest/node'
import {TEST_ENV_VAR, type TestEnv} from './env.js'
import {buildFixtures, pushFixtures} from './fixtures.js'
import {startRegistry, type RunningRegistry} from './registry.js'
import {startTokenServer, type RunningTokenServer} from './token-server.js'

declare module 'vitest' {
  export interface ProvidedContext {
    ctrTsTestEnv: TestEnv
  }
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const started = Date.now()
  let tokenServer: RunningTokenServer | undefined
  let plain: RunningRegistry | undefined
  let auth: RunningRegistry | undefined
  const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-testenv-'))
  const removeDir = () => rmSync(dir, {recursive: true, force: true})
  process.once('exit', removeDir)
  const teardown = async () => {
    await Promise.allSettled([plain?.stop(), auth?.stop(), tokenServer?.stop()])
    process.off('exit', removeDir)
    removeDir()
  }
  try {
    const builtPromise = buildFixtures()
    tokenServer = await startTokenServer()
    ;[plain, auth] = await Promise.all([startRegistry(), startRegistry({realm: `${tokenServer.url}/token`, certPath: tokenServer.certPath})])
    const fixtures = await pushFixtures(await builtPromise, plain.host, auth.host)
    const env: TestEnv = {plainRegistry: plain.host, authRegistry: auth.host, tokenServer: tokenServer.url, fixtures}
    const file = join(dir, 'env.json')
    writeFileSync(file, JSON.stringify(env, null, 2))
    process.env[TEST_ENV_VAR] = file
    project.provide('ctrTsTestEnv', env)
    if (process.env.CTR_TS_TEST_VERBOSE) console.log(`test env ready in ${Date.now() - started}ms: ${file}`)
  } catch (err) {
    await teardown()
    throw err
  }
  return teardown
}
