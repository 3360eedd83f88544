// Loads the e2e test harness (test/harness/*.ts: registry, fixtures, push, tar, cli), compiled
// with bench/tsconfig.json into bench/.build. Compiles on demand when the build is missing or
// older than its sources; when the repository is not writable (an unprivileged user running the
// benches from a root-owned checkout) it compiles into a private temporary directory instead.
import {spawnSync} from 'node:child_process'
import {accessSync, constants, existsSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath, pathToFileURL} from 'node:url'

export const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BENCH = join(REPO, 'bench')
const TSC = join(REPO, 'node_modules', 'typescript', 'bin', 'tsc')
const SOURCES = [join(REPO, 'test', 'harness'), join(REPO, 'src', 'oci', 'types.ts'), join(BENCH, 'tsconfig.json')]

function newestSourceMtime() {
  let newest = 0
  for (const p of SOURCES) {
    const st = statSync(p)
    if (st.isDirectory()) {
      for (const f of readdirSync(p)) if (f.endsWith('.ts')) newest = Math.max(newest, statSync(join(p, f)).mtimeMs)
    } else newest = Math.max(newest, st.mtimeMs)
  }
  return newest
}

function isWritable(dir) {
  try {
    accessSync(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}

function upToDate(outDir) {
  const stamp = join(outDir, '.stamp')
  return existsSync(stamp) && statSync(stamp).mtimeMs >= newestSourceMtime()
}

function compile(outDir) {
  mkdirSync(outDir, {recursive: true})
  const r = spawnSync(process.execPath, [TSC, '-p', join(BENCH, 'tsconfig.json'), '--outDir', outDir], {encoding: 'utf8'})
  if (r.status !== 0) throw new Error(`compiling the test harness for the benches failed:\n${r.stdout}${r.stderr}`)
  // Compiled files outside the repository must still find the repository's node_modules.
  const nm = join(outDir, 'node_modules')
  if (!outDir.startsWith(REPO + '/') && !existsSync(nm)) symlinkSync(join(REPO, 'node_modules'), nm)
  writeFileSync(join(outDir, '.stamp'), new Date().toISOString() + '\n')
}

/** The directory holding the compiled harness (compiling it first when needed). */
export function harnessBuildDir() {
  const inRepo = join(BENCH, '.build')
  if (upToDate(inRepo)) return inRepo
  if (isWritable(BENCH) && (!existsSync(inRepo) || isWritable(inRepo))) {
    compile(inRepo)
    return inRepo
  }
  const uid = process.getuid?.() ?? 0
  const priv = join(tmpdir(), `ctr-ts-bench-build-${uid}`)
  if (!upToDate(priv)) compile(priv)
  return priv
}

/** The harness modules: {registry, fixtures, push, tar, cli}. */
export async function loadHarness() {
  const dir = join(harnessBuildDir(), 'test', 'harness')
  const load = (name) => import(pathToFileURL(join(dir, `${name}.js`)).href)
  const [registry, fixtures, push, tar, cli] = await Promise.all(['registry', 'fixtures', 'push', 'tar', 'cli'].map(load))
  return {registry, fixtures, push, tar, cli}
}
