// ctr-ts (the real CLI, bin/run.js) in an isolated store: its own CTR_TS_ROOT, CTR_TS_RUNROOT,
// HOME and configuration (the bench registry marked insecure: plain HTTP on 127.0.0.1).
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {REPO, loadHarness} from './harness.mjs'
import {mustRun, timed} from './exec.mjs'

const PRODUCT_PARTS = ['bin', 'dist', join('shim', 'build'), 'templates', 'package.json', 'oclif.manifest.json']
let productCli

function works(cli) {
  return spawnSync(process.execPath, [cli, 'version'], {encoding: 'utf8', timeout: 30_000}).status === 0
}

/**
 * bin/run.js of the ctr-ts being measured. By default a private snapshot of the built product
 * (bin, dist, shim/build, manifest; node_modules linked) taken once per process, so that a
 * rebuild of the checkout during a bench cannot break or skew it; CTR_TS_BENCH_LIVE=1 uses the
 * checkout itself.
 */
export function ctrCli() {
  if (productCli) return productCli
  const live = join(REPO, 'bin', 'run.js')
  if (process.env.CTR_TS_BENCH_LIVE === '1') return (productCli = live)
  for (const part of ['dist', join('shim', 'build', 'ctr-ts-shim')]) {
    if (!existsSync(join(REPO, part))) throw new Error(`${join(REPO, part)} is missing: build ctr-ts first (npm run build)`)
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-product-'))
    for (const part of PRODUCT_PARTS) if (existsSync(join(REPO, part))) cpSync(join(REPO, part), join(dir, part), {recursive: true})
    symlinkSync(join(REPO, 'node_modules'), join(dir, 'node_modules'))
    const cli = join(dir, 'bin', 'run.js')
    if (works(cli)) {
      process.once('exit', () => rmSync(dir, {recursive: true, force: true}))
      return (productCli = cli)
    }
    rmSync(dir, {recursive: true, force: true})
    spawnSync('sleep', ['3']) // the checkout is being rebuilt: try again
  }
  throw new Error(`could not take a working snapshot of ${REPO} (is it being rebuilt?); set CTR_TS_BENCH_LIVE=1 to use it as is`)
}

/**
 * A fresh ctr-ts store: the e2e harness's tempRoot (its own CTR_TS_ROOT, CTR_TS_RUNROOT, HOME and
 * XDG directories) run by the snapshot CLI. `insecure`: registry hosts (host:port) allowed over
 * plain HTTP.
 */
export async function ctrStore({insecure = []} = {}) {
  const harness = await loadHarness()
  const cli = ctrCli()
  const t = harness.cli.tempRoot()
  t.writeConfig({registries: Object.fromEntries(insecure.map((h) => [h, {insecure: true}]))})
  const {root, runRoot} = t
  const env = {...process.env, ...t.env, NO_COLOR: '1', FORCE_COLOR: '0'}
  delete env.XDG_RUNTIME_DIR
  const store = {
    cli,
    env,
    root,
    runRoot,
    /** `ctr-ts ARGS` → {code, stdout, stderr, ms}; never throws on failure. */
    run: (args, opts = {}) => timed(process.execPath, [cli, ...args], {env, ...opts}),
    /** `ctr-ts ARGS`, throwing on failure. */
    must: (args, opts = {}) => mustRun(process.execPath, [cli, ...args], {env, ...opts}),
    /** Removes the containers, then the store (files owned by sub-uids through a user namespace). */
    async wipeRoot() {
      await store.removeContainers()
      await harness.cli.removeTree(root)
    },
    /** `rm -f` of every container, by the CLI measured (the harness's own cleanup would use the checkout's). */
    async removeContainers() {
      let ids = []
      try {
        ids = readdirSync(join(root, 'containers'))
      } catch {
        // none
      }
      if (ids.length > 0) await timed(process.execPath, [cli, 'rm', '-f', ...ids], {env, timeoutMs: 60_000})
    },
    async cleanup() {
      await store.removeContainers()
      await t.cleanup()
    },
  }
  return store
}
