#!/usr/bin/env node
// The ctr-ts command. Every command is a fresh short-lived process, so start-up is most of what
// `version`, `ps` or `images` cost: the CLI runs from the esbuild bundle in dist/bundle/ (oclif
// and the dependencies in a few files, oclif's modules evaluated on first use; see
// scripts/build.mjs), and Node caches the compiled code between runs. The commands run most
// often have a bundle of their own (dist/bundle/fast/: the CLI's entry, oclif and that command
// in a few files instead of dozens); src/cli/command-select.ts picks the bundle. CTR_TS_TRACE=1
// prints the phase timeline on stderr at exit (src/trace.ts).

// (the performance global loads perf_hooks: only when tracing)
const started = process.env.CTR_TS_TRACE ? performance.now() : 0
// Node's default cache directory, $TMPDIR/node-compile-cache, belongs to whichever user created it
// first: on a shared machine everyone else silently runs uncached. Ours is per user.
const {NODE_COMPILE_CACHE, XDG_CACHE_HOME, HOME} = process.env
const cacheHome = XDG_CACHE_HOME || (HOME && `${HOME}/.cache`)
process.getBuiltinModule('node:module').enableCompileCache?.(NODE_COMPILE_CACHE || (cacheHome ? `${cacheHome}/ctr-ts/node-compile-cache` : undefined))
// oclif would otherwise look for tsconfig.json (loading TypeScript) when NODE_ENV is development or test.
globalThis.oclif = {...globalThis.oclif, enableAutoTranspile: false}
// A reader that goes away (`ctr-ts ps | head -1`) ends the command quietly, as SIGPIPE ends docker.
process.stdout.on('error', (err) => {
  if (err.code !== 'EPIPE') throw err
  process.exit(141)
})
const {readCommandIndex, selectCommand} = await import('../dist/cli/command-select.js')
const root = process.getBuiltinModule('node:url').fileURLToPath(new URL('..', import.meta.url))
const argv = process.argv.slice(2)
// CTR_TS_FAST_BUNDLES=0: every command from the whole CLI's bundle (for comparisons)
const selection = selectCommand(argv, readCommandIndex(root), process.env.CTR_TS_FAST_BUNDLES !== '0')
const bundle = await import(selection.fastDir ? `../dist/bundle/fast/${selection.fastDir}/main.js` : '../dist/bundle/main.js')
bundle.trace.mark('node start-up', started)
bundle.trace.mark('load the CLI bundle')
await bundle.launch(import.meta.url, argv, {index: selection.index, id: selection.id, command: bundle.command})
