import {randomInt} from 'node:crypto'
import {mkdir, open, readFile, unlink} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {ConflictError, UsageError} from '../errors.js'

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
      const fh = await open(join(ctx.store.names, candidate), 'wx', 0o600)
      await fh.writeFile(id)
      await fh.close()
      return candidate
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
      if (name !== undefined) {
        const owner = (await readFile(join(ctx.store.names, candidate), 'utf8').catch(() => '')).trim()
        throw new ConflictError(`the container name "${name}" is already in use by ${owner.slice(0, 12) || 'another container'}`)
      }
      if (attempt > 50) throw new ConflictError('could not find a free container name')
    }
  }
}

export async function releaseName(ctx: Context, name: string, id: string): Promise<void> {
  const file = join(ctx.store.names, name)
  const owner = (await readFile(file, 'utf8').catch(() => '')).trim()
  if (owner === id) await unlink(file).catch(() => undefined)
}
