import {randomBytes} from 'node:crypto'
import {readdir, readFile, rename, unlink, writeFile} from 'node:fs/promises'
import {join} from 'node:path'
import {setTimeout as sleep} from 'node:timers/promises'
import {CtrError} from '../errors.js'
import {ensureDir, type StoreLayout} from '../paths.js'

/**
 * Coordination between ctr-ts processes sharing a store. Pulls never block each other (blobs are
 * written under unique temp names and renamed atomically). Only garbage collection (rmi, prune)
 * must not delete a blob a running pull has just found or written: pulls register a *lease*
 * (the digests they use) under the short `gc` lock, and the collector, holding the same lock,
 * keeps every digest leased by a live process.
 */

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}

/** Runs `fn` holding `locks/<name>.lock` (created with O_EXCL; a lock left by a dead process is broken). */
export async function withStoreLock<T>(store: StoreLayout, name: string, fn: () => Promise<T>, timeoutMs = 120_000): Promise<T> {
  ensureDir(store.locks)
  const path = join(store.locks, `${name}.lock`)
  const deadline = Date.now() + timeoutMs
  const token = `${process.pid} ${randomBytes(6).toString('hex')}`
  for (;;) {
    try {
      await writeFile(path, token, {flag: 'wx', mode: 0o600})
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
    if (owner !== '' && !isAlive(pid)) {
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

export interface Lease {
  /** Adds digests (blobs) and diff ids (layer dirs) to the lease. Must be called before relying on their presence. */
  add(digests: string[]): Promise<void>
  release(): Promise<void>
}

interface LeaseFile {
  pid: number
  digests: string[]
}

/** A lease protecting `digests` (blob digests or layer diff ids) from garbage collection while this process lives. */
export async function createLease(store: StoreLayout): Promise<Lease> {
  ensureDir(store.locks)
  const path = join(store.locks, `lease-${process.pid}-${randomBytes(6).toString('hex')}.json`)
  const digests = new Set<string>()
  const write = async () => {
    const tmp = `${path}.tmp`
    await writeFile(tmp, JSON.stringify({pid: process.pid, digests: [...digests]} satisfies LeaseFile))
    await rename(tmp, path)
  }
  return {
    async add(more: string[]) {
      const fresh = more.filter((d) => !digests.has(d))
      if (fresh.length === 0) return
      for (const d of fresh) digests.add(d)
      await withStoreLock(store, 'gc', write)
    },
    async release() {
      await unlink(path).catch(() => {})
    },
  }
}

/** Digests leased by live processes; leases of dead processes are deleted. Call holding the `gc` lock. */
export async function leasedDigests(store: StoreLayout): Promise<Set<string>> {
  const out = new Set<string>()
  let names: string[]
  try {
    names = await readdir(store.locks)
  } catch {
    return out
  }
  for (const name of names) {
    const m = /^lease-(\d+)-[a-f0-9]+\.json$/.exec(name)
    if (!m) continue
    const path = join(store.locks, name)
    if (!isAlive(Number(m[1]))) {
      await unlink(path).catch(() => {})
      continue
    }
    try {
      const lease = JSON.parse(await readFile(path, 'utf8')) as LeaseFile
      for (const d of lease.digests) out.add(d)
    } catch {
      // being rewritten; its owner holds the gc lock while writing, so this does not happen under it
    }
  }
  return out
}
