import {randomBytes} from 'node:crypto'
import {link, readdir, stat, unlink, writeFile} from 'node:fs/promises'
import {basename, dirname, join} from 'node:path'

/**
 * Creates `path` holding `content`, failing with EEXIST when it exists (like O_EXCL), but never
 * visible empty: the content is written to a hidden temporary file beside it, which is then
 * hard-linked to `path` (atomic). With a plain `open(O_EXCL)` and `write`, a process killed
 * between the two leaves an empty file that names no owner, so nobody can tell it is stale.
 * Directories holding such files skip names starting with a dot (isHiddenTemp) when they list.
 */
export async function createExclusive(path: string, content: string, mode = 0o600): Promise<void> {
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`)
  await writeFile(tmp, content, {mode, flag: 'wx'})
  try {
    await link(tmp, path)
  } finally {
    await unlink(tmp).catch(() => undefined)
  }
}

/** A temporary file of createExclusive (or any dot-file): not an entry of the directory's listing. */
export function isHiddenTemp(name: string): boolean {
  return name.startsWith('.')
}

/**
 * Whether an EMPTY exclusive file is a leftover: older versions created these files with
 * `open(O_EXCL)` then `write`, and a kill between the two left them empty. One that stayed empty
 * for `graceMs` was not being written.
 */
export async function isStaleEmpty(path: string, graceMs = 2_000): Promise<boolean> {
  try {
    const st = await stat(path)
    return st.size === 0 && Date.now() - st.mtimeMs > graceMs
  } catch {
    return false
  }
}

/**
 * Removes the temporary files of createExclusive in `dir` whose process is gone (a CLI killed
 * between writing one and unlinking it leaves it behind; it blocks nothing, but it stays).
 */
export async function removeDeadTemps(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const pid = Number(/^\..+\.(\d+)\.[0-9a-f]{8}\.tmp$/.exec(name)?.[1])
    if (!pid || pid === process.pid || isAlive(pid)) continue
    await unlink(join(dir, name)).catch(() => undefined)
  }
}

/** True while process `pid` exists (EPERM: it exists, as another user). */
export function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false
  try {
    process.kill(pid, 0)
    return true
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'
  }
}
