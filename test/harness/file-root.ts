import {afterAll, beforeAll, expect} from 'vitest'
import {ctr, tempRoot, type TempRoot} from './cli.js'
import {testEnv} from './env.js'

/**
 * One isolated store for a whole test file, with a fixture image already pulled into it:
 * registers the file's beforeAll (hands over the root and the image reference) and afterAll
 * (removes every container and the root).
 */
export function fileRootWithImage(fixture: string, ready: (t: TempRoot, ref: string) => void): void {
  let t: TempRoot | undefined
  beforeAll(async () => {
    t = tempRoot()
    const ref = testEnv().fixtures[fixture]!.ref
    const pulled = await ctr(['pull', '-q', ref], {env: t.env})
    expect(pulled.exitCode, pulled.stderr).toBe(0)
    ready(t, ref)
  }, 120_000)
  afterAll(async () => {
    await t?.cleanup()
  })
}
