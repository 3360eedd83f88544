import {randomBytes} from 'node:crypto'
import {rename, writeFile} from 'node:fs/promises'

/** Writes JSON atomically: temp file then rename, so readers never see half a file. */
export async function writeJsonAtomic(path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n', {mode: 0o600})
  await rename(tmp, path)
}
