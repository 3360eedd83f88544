/**
 * Looking at a ctr-ts store from a test: what the fault tests use to prove that no blob is
 * half-visible and nothing is left behind.
 */
import {createHash} from 'node:crypto'
import {existsSync, readdirSync, readFileSync} from 'node:fs'
import {join} from 'node:path'
import {expect} from 'vitest'

/** Every file under blobs/ hashes to its name: no blob is half-visible or corrupt. */
export function expectBlobsSound(root: string): void {
  const dir = join(root, 'blobs', 'sha256')
  for (const name of existsSync(dir) ? readdirSync(dir) : []) {
    expect(createHash('sha256').update(readFileSync(join(dir, name))).digest('hex'), `blob ${name}`).toBe(name)
  }
}

/** The entries of a directory ([] when it does not exist). */
export function entries(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).sort() : []
}
