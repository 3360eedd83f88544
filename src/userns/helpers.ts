import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {PrerequisiteError} from '../errors.js'

/** The package root (where package.json, shim/ and dist/ live). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Path of one of our C programs, built from source into shim/build/ by the package's install script. */
export function helperPath(name: 'ctr-ts-userns' | 'ctr-ts-shim' | 'ctr-ts-portproxy' | 'ctr-ts-utimens' | 'ctr-ts-netns' | 'ctr-ts-netattach' | 'ctr-ts-overlay'): string {
  const path = join(packageRoot, 'shim', 'build', name)
  if (!existsSync(path)) throw new PrerequisiteError(`${path} is missing: build it with \`make -C ${join(packageRoot, 'shim')}\` (needs a C compiler and make)`)
  return path
}
