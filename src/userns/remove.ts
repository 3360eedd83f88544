import {rm} from 'node:fs/promises'
import {runInUserNs} from './exec.js'
import {currentMapping} from './idmap.js'

/**
 * Removes directory trees that may hold files owned by sub-uids (layer and container
 * directories): a plain rm first, which suffices for trees the user owns entirely, then
 * `rm -rf` inside the user namespace, where the user is root over every mapped id.
 */
export async function removeTree(...paths: string[]): Promise<void> {
  const stubborn: string[] = []
  for (const path of paths) {
    try {
      await rm(path, {recursive: true, force: true})
    } catch {
      stubborn.push(path)
    }
  }
  if (stubborn.length > 0) await runInUserNs(currentMapping(), ['rm', '-rf', '--', ...stubborn])
}
