/**
 * Run the real ctr-ts binary from tests, each test in its own isolated store.
 */
import {type ChildProcess, spawn, type SpawnOptions, execFile} from 'node:child_process'
import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {maybeTestEnv} from './env.js'

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CLI = join(REPO_ROOT, 'bin', 'run.js')

export interface CtrResult {
  exitCode: number
  stdout: string
  stderr: string
}

export interface CtrOptions {
  env?: Record<string, string>
  input?: string
  timeoutMs?: number
  cwd?: string
}

export interface TempRoot {
  /** CTR_TS_ROOT, CTR_TS_RUNROOT, HOME, XDG_CONFIG_HOME (and XDG_DATA_HOME, XDG_CACHE_HOME) for ctr(). */
  env: Record<string, string>
  root: string
  runRoot: string
  home: string
  /** Write $XDG_CONFIG_HOME/ctr-ts/config.json. */
  writeConfig(obj: unknown): void
  cleanup(): Promise<void>
}

function childEnv(extra?: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {...process.env, ...extra}
  // oclif/terminal niceties that would change output
  env.NO_COLOR = '1'
  env.FORCE_COLOR = '0'
  return env
}

/** Run `node bin/run.js ...args`; never throws on a non-zero exit (timeout → exitCode 124 + message on stderr). */
export function ctr(args: string[], opts: CtrOptions = {}): Promise<CtrResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {
      cwd: opts.cwd ?? REPO_ROOT,
      env: childEnv(opts.env),
      stdio: ['pipe', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout!.setEncoding('utf8').on('data', (d: string) => (stdout += d))
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (stderr += d))
    child.stdin!.on('error', () => {})
    child.stdin!.end(opts.input ?? '')
    const timeoutMs = opts.timeoutMs ?? 55_000
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', (err) => {
      clearTimeout(timer)
      reject(err)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      if (timedOut) stderr += `\n[harness] ctr-ts ${args.join(' ')} timed out after ${timeoutMs}ms`
      resolve({exitCode: timedOut ? 124 : (code ?? (signal ? 128 + signalNumber(signal) : 1)), stdout, stderr})
    })
  })
}

function signalNumber(signal: NodeJS.Signals): number {
  const table: Partial<Record<NodeJS.Signals, number>> = {SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGKILL: 9, SIGTERM: 15}
  return table[signal] ?? 0
}

/** Start ctr-ts as a child process (for -f / -it / long-running tests). stdio defaults to pipes. */
export function ctrSpawn(args: string[], opts: CtrOptions & {stdio?: SpawnOptions['stdio']} = {}): ChildProcess {
  return spawn(process.execPath, [CLI, ...args], {
    cwd: opts.cwd ?? REPO_ROOT,
    env: childEnv(opts.env),
    stdio: opts.stdio ?? ['pipe', 'pipe', 'pipe'],
  })
}

function run(cmd: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    execFile(cmd, args, {timeout: 60_000}, (err) => resolve(err ? ((err as {code?: number}).code ?? 1) : 0))
  })
}

/** rm -rf that also removes files owned by sub-uids (through a user namespace mapping them). */
export async function removeTree(dir: string): Promise<void> {
  if (!existsSync(dir)) return
  try {
    rmSync(dir, {recursive: true, force: true, maxRetries: 2})
    return
  } catch {
    // files owned by sub-uids, or read-only directories from an image: retry in a userns
  }
  // A peer's helpers (podman's fuse-overlayfs, conmon) may still be letting go of it: retry briefly.
  let code = 0
  for (let attempt = 0; attempt < 5; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 400))
    code = await run('unshare', ['--map-auto', '--map-root-user', 'rm', '-rf', dir])
    if (code === 0 || !existsSync(dir)) return
  }
  if (existsSync(dir)) throw new Error(`could not remove ${dir} (unshare rm -rf exited ${code})`)
}

/** The default per-test configuration: both test registries are plain-HTTP ("insecure"). */
export function defaultTestConfig(): {registries: Record<string, {insecure: boolean}>} {
  const env = maybeTestEnv()
  const registries: Record<string, {insecure: boolean}> = {}
  if (env) for (const host of [env.plainRegistry, env.authRegistry]) registries[host] = {insecure: true}
  return {registries}
}

/** A fresh, isolated ctr-ts store + runtime dir + HOME for one test (or file). */
export function tempRoot(): TempRoot {
  const base = mkdtempSync(join(tmpdir(), 'ctr-ts-test-'))
  // short: unix socket paths are limited to 108 bytes
  const runRoot = mkdtempSync('/tmp/ctrr-')
  const root = join(base, 'root')
  const home = join(base, 'home')
  const configHome = join(home, '.config')
  for (const d of [root, home, configHome]) mkdirSync(d, {recursive: true, mode: 0o700})
  const env: Record<string, string> = {
    CTR_TS_ROOT: root,
    CTR_TS_RUNROOT: runRoot,
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
  }
  const writeConfig = (obj: unknown) => {
    const dir = join(configHome, 'ctr-ts')
    mkdirSync(dir, {recursive: true})
    writeFileSync(join(dir, 'config.json'), JSON.stringify(obj, null, 2) + '\n')
  }
  writeConfig(defaultTestConfig())
  const cleanup = async () => {
    const containers = join(root, 'containers')
    let ids: string[] = []
    try {
      ids = readdirSync(containers)
    } catch {
      // no containers dir
    }
    if (ids.length > 0) await ctr(['rm', '-f', ...ids], {env, timeoutMs: 30_000}).catch(() => undefined)
    await removeTree(base)
    await removeTree(runRoot)
  }
  return {env, root, runRoot, home, writeConfig, cleanup}
}
