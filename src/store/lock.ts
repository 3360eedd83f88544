import {randomBytes} from 'node:crypto'
import {readFile, rename, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {CtrError} from '../errors.js'
import {ensureDir, type StoreLayout} from '../paths.js'
import {createExclusive, isAlive, isStaleEmpty} from './exclusive-file.js'

/**
 * Coordination between ctr-ts processes sharing a store. Pulls never block each other (blobs are
 * written under unique temp names and renamed atomically). Only garbage collection (rmi, prune)
 * must not delete what a running pull has just found or written, nor what a container uses:
 * leases (leases.ts) are written under the short `gc` lock, and the collector, holding the same
 * lock, keeps everything they name.
 */

export {isAlive} from './exclusive-file.js'

/**
 * Runs `fn` holding `locks/<name>.lock` (created exclusively, with its owner's pid already in it:
 * a lock left by a dead process is broken, and so is an empty one that older versions could leave).
 */
export async function withStoreLock<T>(store: StoreLayout, name: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  ensureDir(store.locks)
  const path = join(store.locks, `${name}.lock`)
  const deadline = Date.now() + timeoutMs
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`
  for (;;) {
    try {
      await createExclusive(path, token)
      break
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    }
    let owner = ''
    try {
      owner = await readFile(path, 'utf8')
    } catch {
      continue // released meanwhile
    }
    const pid = Number(owner.split(' ')[0])
    if (owner === '' ? await isStaleEmpty(path) : !isAlive(pid)) {
      // Break a dead owner's lock: move it aside first so only one breaker wins.
      const aside = `${path}.stale.${randomBytes(4).toString('hex')}`
      try {
        await rename(path, aside)
        await unlink(aside)
      } catch {
        // someone else broke it
      }
      continue
    }
    if (Date.now() > deadline) throw new CtrError(`timed out waiting for the store lock ${path} (held by pid ${pid})`)
    await sleep(25 + Math.random() * 50)
  }
  try {
    return await fn()
  } finally {
    try {
      if ((await readFile(path, 'utf8')) === token) await unlink(path)
    } catch {
      // already gone
    }
  }
}
