import {existsSync} from 'node:fs'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {PrerequisiteError} from '../errors.js'

/** The package root (where package.json, shim/ and dist/ live). */
export const packageRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..')

/** Path of one of our C programs, built by `npm ci`/`npm run build` into shim/build/. */
export function helperPath(name: 'ctr-ts-userns' | 'ctr-ts-shim' | 'ctr-ts-portproxy'): string {
  const path = join(packageRoot, 'shim', 'build', name)
  if (!existsSync(path)) throw new PrerequisiteError(`${path} is missing: build it with \`npm run build\` (needs a C compiler)`)
  return path
}
