#!/usr/bin/env node
// The ctr-ts command. Every command is a fresh short-lived process, so start-up is most of what
// `version`, `ps` or `images` cost: the CLI runs from the esbuild bundle in dist/bundle/ (oclif
// and the dependencies in a few files, oclif's modules evaluated on first use; see
// scripts/build.mjs), and Node caches the compiled code between runs. CTR_TS_TRACE=1 prints the
// phase timeline on stderr at exit (src/trace.ts).

// (the performance global loads perf_hooks: only when tracing)
const started = process.env.CTR_TS_TRACE ? performance.now() : 0
// Node's default cache directory, $TMPDIR/node-compile-cache, belongs to whichever user created it
// first: on a shared machine everyone else silently runs uncached. Ours is per user.
const {NODE_COMPILE_CACHE, XDG_CACHE_HOME, HOME} = process.env
const cacheHome = XDG_CACHE_HOME || (HOME && `${HOME}/.cache`)
process.getBuiltinModule('node:module').enableCompileCache?.(NODE_COMPILE_CACHE || (cacheHome ? `${cacheHome}/ctr-ts/node-compile-cache` : undefined))
// oclif would otherwise look for tsconfig.json (loading TypeScript) when NODE_ENV is development or test.
globalThis.oclif = {...globalThis.oclif, enableAutoTranspile: false}
const {launch, trace} = await import('../dist/bundle/main.js')
trace.mark('node start-up', started)
trace.mark('load the CLI bundle')
await launch(import.meta.url)
