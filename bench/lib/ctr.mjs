// ctr-ts (the real CLI, bin/run.js) in an isolated store: its own CTR_TS_ROOT, CTR_TS_RUNROOT,
// HOME and configuration (the bench registry marked insecure: plain HTTP on 127.0.0.1).
import {mkdirSync, mkdtempSync, readdirSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO, loadHarness} from './harness.mjs'
import {mustRun, timed} from './exec.mjs'

export const CLI = join(REPO, 'bin', 'run.js')

/** A fresh ctr-ts store. `insecure`: registry hosts (host:port) allowed over plain HTTP. */
export async function ctrStore({insecure = []} = {}) {
  const {cli} = await loadHarness()
  const base = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-'))
  const runRoot = mkdtempSync('/tmp/ctrb-') // short: unix socket paths are limited to 108 bytes
  const home = join(base, 'home')
  const configHome = join(home, '.config')
  mkdirSync(join(configHome, 'ctr-ts'), {recursive: true, mode: 0o700})
  const registries = Object.fromEntries(insecure.map((h) => [h, {insecure: true}]))
  writeFileSync(join(configHome, 'ctr-ts', 'config.json'), JSON.stringify({registries}, null, 2) + '\n')
  const root = join(base, 'root')
  const env = {
    ...process.env,
    CTR_TS_ROOT: root,
    CTR_TS_RUNROOT: runRoot,
    HOME: home,
    XDG_CONFIG_HOME: configHome,
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    NO_COLOR: '1',
    FORCE_COLOR: '0',
  }
  delete env.XDG_RUNTIME_DIR
  const store = {
    env,
    root,
    runRoot,
    /** `ctr-ts ARGS` → {code, stdout, stderr, ms}; never throws on failure. */
    run: (args, opts = {}) => timed(process.execPath, [CLI, ...args], {env, ...opts}),
    /** `ctr-ts ARGS`, throwing on failure. */
    must: (args, opts = {}) => mustRun(process.execPath, [CLI, ...args], {env, ...opts}),
    /** Removes the containers, then the store (files owned by sub-uids through a user namespace). */
    async wipeRoot() {
      await store.removeContainers()
      await cli.removeTree(root)
    },
    async removeContainers() {
      let ids = []
      try {
        ids = readdirSync(join(root, 'containers'))
      } catch {
        // none
      }
      if (ids.length > 0) await timed(process.execPath, [CLI, 'rm', '-f', ...ids], {env, timeoutMs: 60_000})
    },
    async cleanup() {
      await store.removeContainers()
      await cli.removeTree(base)
      await cli.removeTree(runRoot)
    },
  }
  return store
}
