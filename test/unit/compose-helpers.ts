import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {loadProject} from '../../src/compose/model/load.js'
import type {ComposeProject, LoadOptions} from '../../src/compose/model/types.js'

/** A fresh directory (named `name`) holding `files` (relative path → text). */
export function projectDir(files: Record<string, string>, name = 'app'): string {
  const dir = join(mkdtempSync(join(tmpdir(), 'compose-unit-')), name)
  mkdirSync(dir, {recursive: true})
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), {recursive: true})
    writeFileSync(join(dir, rel), text)
  }
  return dir
}

/** loadProject on a fresh directory with a clean environment (only HOME and `env`). */
export async function load(files: Record<string, string>, opts: LoadOptions = {}, name = 'app'): Promise<ComposeProject & {warnings: string[]; dir: string}> {
  const dir = projectDir(files, name)
  const warnings: string[] = []
  const p = await loadProject({workingDir: dir, env: {HOME: '/home/u'}, ...opts, onWarning: (m) => warnings.push(m)})
  return Object.assign(p, {warnings, dir})
}
