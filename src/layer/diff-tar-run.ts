import {spawn} from 'node:child_process'
import {existsSync} from 'node:fs'
import {join} from 'node:path'
import type {Readable} from 'node:stream'
import {fileURLToPath} from 'node:url'
import {LayerError} from '../errors.js'
import {lastLine, userNsArgv} from '../userns/exec.js'
import {packageRoot} from '../userns/helpers.js'
import {currentMapping} from '../userns/idmap.js'
import type {DiffTarJob} from './diff-tar.js'

export type {DiffTarJob} from './diff-tar.js'

function mainPath(): string {
  const here = fileURLToPath(new URL('./diff-tar-main.js', import.meta.url))
  if (existsSync(here)) return here
  return join(packageRoot, 'dist', 'layer', 'diff-tar-main.js')
}

/**
 * Starts diff-tar-main.js in the user namespace: `tar` is the layer tar as it is written,
 * `done` settles when the child has exited (a LayerError with its last line when it failed).
 */
export function startDiffTar(job: DiffTarJob): {tar: Readable; done: Promise<void>} {
  const {file, args} = userNsArgv(currentMapping(), [process.execPath, mainPath(), JSON.stringify(job)])
  const child = spawn(file, args, {stdio: ['ignore', 'pipe', 'pipe']})
  let stderr = ''
  child.stderr.setEncoding('utf8').on('data', (s: string) => {
    if (stderr.length < 8192) stderr += s
  })
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => reject(new LayerError(`cannot start the layer writer: ${err.message}`)))
    child.once('close', (code) => (code === 0 ? resolve() : reject(new LayerError(lastLine(stderr) || `layer writer exited with code ${code}`))))
  })
  return {tar: child.stdout, done}
}
