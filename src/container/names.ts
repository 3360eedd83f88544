import {randomInt} from 'node:crypto'
import {existsSync, readFileSync} from 'node:fs'
import {mkdir, readdir, readFile, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {ConflictError, UsageError} from '../errors.js'
import {isAlive} from '../runtime/process.js'
import {createExclusive, isHiddenTemp, isStaleEmpty} from '../store/exclusive-file.js'

const adjectives = ['brave', 'calm', 'eager', 'fervent', 'gentle', 'happy', 'jolly', 'keen', 'lucid', 'merry', 'nifty', 'quiet', 'proud', 'sharp', 'swift', 'tender', 'upbeat', 'vivid', 'witty', 'zealous']
const nouns = ['turing', 'hopper', 'lovelace', 'ritchie', 'thompson', 'torvalds', 'knuth', 'liskov', 'dijkstra', 'hamilton', 'shannon', 'noether', 'curie', 'babbage', 'lamport', 'goldberg', 'kay', 'pike', 'wirth', 'backus']

const NAME_RE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/

export function randomName(): string {
  return `${adjectives[randomInt(adjectives.length)]}_${nouns[randomInt(nouns.length)]}${randomInt(100)}`
}

/** Reserves a container name atomically (O_EXCL), so two concurrent creates cannot share one. */
export async function reserveName(ctx: Context, name: string | undefined, id: string): Promise<string> {
  await mkdir(ctx.store.names, {recursive: true, mode: 0o700})
  if (name !== undefined && !NAME_RE.test(name)) {
    throw new UsageError(`invalid container name "${name}": only [a-zA-Z0-9][a-zA-Z0-9_.-] are allowed`)
  }
  for (let attempt = 0; ; attempt++) {
    const candidate = name ?? randomName()
    try {
      await createExclusive(join(ctx.store.names, candidate), id)
      return candidate
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (name !== undefined) {
        const owner = (await readFile(join(ctx.store.names, candidate), 'utf8').catch(() => '')).trim()
        const stale = owner === '' ? await isStaleEmpty(join(ctx.store.names, candidate)) : !ownerExists(ctx, owner)
        if (attempt === 0 && stale) {
          // reserved by a create that was killed before it wrote its directory or record
          await unlink(join(ctx.store.names, candidate)).catch(() => undefined)
          continue
        }
        throw new ConflictError(`the container name "${name}" is already in use by ${owner.slice(0, 12) || 'another container'}`)
      }
      if (attempt > 50) throw new ConflictError('could not find a free container name')
    }
  }
}

/**
 * Whether the container a name is reserved for exists or is being created: its record, or its
 * directory with a `creating` file whose process is alive (create writes both before it reserves).
 */
function ownerExists(ctx: Context, id: string): boolean {
  if (!/^[a-f0-9]{64}$/.test(id)) return true // not ours to judge
  const dir = join(ctx.store.containers, id)
  if (existsSync(join(dir, 'container.json'))) return true
  try {
    const pid = Number(readFileSync(join(dir, 'creating'), 'utf8').trim())
    return Number.isInteger(pid) && pid > 0 && isAlive(pid, undefined)
  } catch {
    return false
  }
}

export async function releaseName(ctx: Context, name: string, id: string): Promise<void> {
  const file = join(ctx.store.names, name)
  const owner = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (owner === id) await unlink(file).catch(() => undefined)
}

/**
 * Releases name reservations whose container neither exists nor is being created: what an `rm`
 * or `run` killed between removing (or before writing) its directory and its name left. Without
 * this such a name stays taken until someone asks for it again. Returns the names released.
 */
export async function releaseOrphanNames(ctx: Context): Promise<string[]> {
  const released: string[] = []
  for (const name of await readdir(ctx.store.names).catch(() => [] as string[])) {
    if (isHiddenTemp(name)) continue
    const file = join(ctx.store.names, name)
    const owner = (await readFile(file, 'utf8').catch(() => '')).trim()
    if (owner === '' ? !(await isStaleEmpty(file)) : ownerExists(ctx, owner)) continue
    await unlink(file).catch(() => undefined)
    released.push(name)
  }
  return released
}
