#!/usr/bin/env node
// Builds everything: TypeScript to dist/, the C programs in shim/ with the system compiler, the
// CLI bundle in dist/bundle/ and oclif.manifest.json from the bundled commands.
//
// The bundle (esbuild, ESM, code splitting) is what bin/run.js runs: one entry (`main.js`:
// oclif's execute + the trace) and one per command file under dist/commands/ (found here, so a
// new command needs no list), sharing chunks in dist/bundle/chunks/. oclif and the npm
// dependencies are inside, so a command loads a handful of files instead of ~200 modules, and a
// command loads only what it imports (dynamic imports stay lazy chunks). dist/ (tsc's output)
// stays: separate Node processes (dist/layer/unpack-main.js) run from it.
import {execFileSync} from 'node:child_process'
import {existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync} from 'node:fs'
import {dirname, join, relative, sep} from 'node:path'
import {fileURLToPath} from 'node:url'
import {builtinModulesPlugin} from './builtin-modules.mjs'
import {lazyRequirePlugin} from './lazy-require.mjs'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd, args) => execFileSync(cmd, args, {cwd: root, stdio: 'inherit'})
const dist = join(root, 'dist')
const outdir = join(dist, 'bundle')

rmSync(dist, {recursive: true, force: true})
run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'])
if (existsSync(join(root, 'shim', 'Makefile'))) run('make', ['-s', '-C', 'shim'])

/** Every compiled command module: dist/commands/**\/*.js, by entry name (`commands/image/ls`). */
function commandEntries() {
  const entries = {}
  const walk = (dir) => {
    for (const e of readdirSync(dir, {withFileTypes: true})) {
      const p = join(dir, e.name)
      if (e.isDirectory()) walk(p)
      else if (e.name.endsWith('.js') && !e.name.startsWith('_')) entries[relative(dist, p).slice(0, -3).split(sep).join('/')] = p
    }
  }
  walk(join(dist, 'commands'))
  return entries
}

// `import.meta.url` in a bundled module must still name its file in dist/ (paths next to it:
// dist/layer/unpack-main.js, the package root): replaced by a marker at load, and the marker by
// `new URL(<dist file relative to the output file>, import.meta.url)` once esbuild has decided
// which output file holds the module.
const META = '__ctrTsImportMetaUrl'
const metaUrlPlugin = {
  name: 'import-meta-url',
  setup(build) {
    build.onLoad({filter: /\.js$/}, (args) => {
      if (!args.path.startsWith(dist + sep)) return undefined
      const text = readFileSync(args.path, 'utf8')
      if (!text.includes('import.meta.url')) return undefined
      const rel = relative(dist, args.path).split(sep).join('/')
      return {contents: text.replaceAll('import.meta.url', `${META}(${JSON.stringify(rel)})`), loader: 'js'}
    })
  },
}

const mainEntry = {
  name: 'main-entry',
  setup(build) {
    build.onResolve({filter: /^ctr-ts:main$/}, () => ({path: 'main', namespace: 'ctr-ts'}))
    build.onLoad({filter: /^main$/, namespace: 'ctr-ts'}, () => ({
      contents: "export {launch} from './cli/launch.js'\nexport {trace} from './trace.js'\n",
      resolveDir: dist,
      loader: 'js',
    }))
  },
}

// The commands run most often get a bundle of their own, dist/bundle/fast/ID/main.js: the CLI's
// entry, oclif and that one command in one file. The whole CLI's bundle shares its code among 80
// commands in ~130 chunks, of which `run` imports 40 at each start (resolving, reading and linking
// each costs: 15-20 ms of `run`'s start-up, 10 of `rm`'s and `ps`'s). Without code splitting, the
// dynamic imports are in the same file, still evaluated at first use only; as fast as splitting
// them off, and half the size. bin/run.js picks the bundle (src/cli/command-select.ts); help and
// every other command use the whole CLI's.
const FAST_COMMANDS = ['run', 'create', 'start', 'stop', 'kill', 'rm', 'ps', 'images', 'version', 'exec', 'logs', 'inspect', 'pull', 'wait', 'port', 'rmi', 'tag']
const fastEntry = {
  name: 'fast-entry',
  setup(build) {
    build.onResolve({filter: /^ctr-ts:fast:/}, (args) => ({path: args.path.slice('ctr-ts:fast:'.length), namespace: 'ctr-ts-fast'}))
    build.onLoad({filter: /.*/, namespace: 'ctr-ts-fast'}, (args) => ({
      contents: "export {launch} from './cli/launch.js'\nexport {trace} from './trace.js'\n" +
        `export {default as command} from './commands/${args.path.split(':').join('/')}.js'\n`,
      resolveDir: dist,
      loader: 'js',
    }))
  },
}

// oclif asks wsl-utils whether this is WSL (its config.platform, shown in help and the user agent)
// and wsl-utils loads child_process for its other functions: the same test, without them.
const isWsl = {
  name: 'is-wsl',
  setup(build) {
    build.onResolve({filter: /^wsl-utils$/}, () => ({path: 'wsl-utils', namespace: 'ctr-ts'}))
    build.onLoad({filter: /^wsl-utils$/, namespace: 'ctr-ts'}, () => ({
      contents: "import {release} from 'node:os'\nexport const isWsl = process.platform === 'linux' && release().toLowerCase().includes('microsoft')\n" +
        "export async function powerShellPath() { return 'powershell.exe' }\n",
      loader: 'js',
    }))
  },
}

// Builtins as modules of ours (no ES module facade; heavy ones loaded at first use): see
// scripts/builtin-modules.mjs.
const builtinsWithoutFacade = builtinModulesPlugin(root)

const esbuild = await import('esbuild')
const common = {
  absWorkingDir: root,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node22',
  chunkNames: 'chunks/[name]-[hash]',
  // Less source for Node to read and hash at each start (the compile cache is keyed on it);
  // identifiers are kept: error classes name themselves after new.target.name.
  minifyWhitespace: true,
  minifySyntax: true,
  // Optional packages oclif and cosmiconfig look for at run time (TypeScript configs): never bundled.
  external: ['typescript', 'ts-node', 'tsx'],
  // CommonJS dependencies call require(): give every output file a real one.
  banner: {js: "const require = process.getBuiltinModule('node:module').createRequire(import.meta.url);"},
  plugins: [
    builtinsWithoutFacade,
    mainEntry,
    fastEntry,
    isWsl,
    metaUrlPlugin,
    // oclif's engine check cannot find its package.json inside the bundle: it would only load semver.
    lazyRequirePlugin({
      packages: ['@oclif/core'],
      drop: ['checkNodeVersion();'],
      // The first String#localeCompare of a process sets up ICU's collator: 30-50 ms, to sort
      // the command ids (ASCII: code unit order is the same).
      patches: [
        ['.sort((a, b) => a.id.localeCompare(b.id));', '.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));'],
        // package.json and manifest reads: node:fs/promises loads ~35 internal modules (streams,
        // readline, watchers) for files of a few KB that a synchronous read returns at once.
        ["const contents = await (0, promises_1.readFile)(path, 'utf8');", "const contents = (0, node_fs_1.readFileSync)(path, 'utf8');"],
        // The plugins of package.json (oclif.plugins) are matched against every dependency with
        // minimatch, compiling each pattern anew: ~50 compilations for `--help`. A name without
        // glob characters matches itself alone.
        // Help renders every command summary as an EJS template (a compilation each, for
        // `--help` about 80): a text without `<%` is its own rendering.
        ['return ejs_1.default.render(t, context);', "return typeof t === 'string' && !t.includes('<%') ? t : ejs_1.default.render(t, context);"],
        ['patterns.some((w) => (0, minimatch_1.minimatch)(p, w))', 'patterns.some((w) => (/[*?[\\]{}()!+@]/.test(w.slice(1)) || w.startsWith("!") ? (0, minimatch_1.minimatch)(p, w) : p === w))'],
      ],
    }),
  ],
  metafile: true,
  logLevel: 'warning',
  legalComments: 'none',
}
const result = await esbuild.build({...common, entryPoints: {main: 'ctr-ts:main', ...commandEntries()}, outdir})

/**
 * Rewrites the output files of an esbuild `result` in place: the import.meta.url markers become
 * URLs relative to the output file, and the output is made ASCII-only. esbuild escapes non-ASCII
 * characters everywhere but in regular-expression literals (strip-ansi's `\u009B`, the `µ` of
 * duration units); one such character makes Node decode the whole file as UTF-8 into a two-byte
 * string and V8 handle two-byte source: 5 ms more per start for the `run` bundle (2 MB), 1.6 for `version`.
 * A `\uXXXX` escape matches the same character in a regular expression (with or without the u
 * flag: a surrogate pair of escapes is one code point there), and everywhere else esbuild leaves
 * the output already ASCII.
 */
function fixOutputs(result) {
  for (const out of Object.keys(result.metafile.outputs)) {
    const file = join(root, out)
    if (!file.endsWith('.js')) continue
    const text = readFileSync(file, 'utf8')
    const nonAscii = /[^\x00-\x7f]/g
    if (!text.includes(META) && !nonAscii.test(text)) continue
    const fixed = text.replace(new RegExp(`${META}\\("([^"]+)"\\)`, 'g'), (_, rel) => {
      const target = relative(dirname(file), join(dist, rel)).split(sep).join('/')
      return `new URL(${JSON.stringify(target.startsWith('.') ? target : `./${target}`)}, import.meta.url).href`
    }).replace(nonAscii, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    if (fixed.includes(META)) throw new Error(`${out}: an import.meta.url marker was not replaced`)
    writeFileSync(file, fixed)
  }
}
fixOutputs(result)
const fastDirs = Object.fromEntries(FAST_COMMANDS.map((id) => [id, id.split(':').join('-')]))
for (const built of await Promise.all(FAST_COMMANDS.map((id) =>
  esbuild.build({...common, splitting: false, entryPoints: {main: `ctr-ts:fast:${id}`}, outdir: join(outdir, 'fast', fastDirs[id])})))) {
  fixOutputs(built)
}
// CTR_TS_BUILD_META=FILE: esbuild's metafile (which module imports which, per output file), to see what a command loads
if (process.env.CTR_TS_BUILD_META) writeFileSync(process.env.CTR_TS_BUILD_META, JSON.stringify(result.metafile))

// The programs that run as Node processes of their own in the user namespace (the unpacker every
// pull starts, the layer tar writer of commit/build): each bundled into one file in place of tsc's
// output, so a start loads one module instead of ~25 (tar-stream and its dependencies included).
for (const program of ['layer/unpack-main.js', 'layer/diff-tar-main.js']) {
  const built = await esbuild.build({
    absWorkingDir: root,
    entryPoints: [join(dist, program)],
    outfile: join(dist, program),
    allowOverwrite: true,
    bundle: true,
    format: 'esm',
    platform: 'node',
    target: 'node22',
    minifyWhitespace: true,
    minifySyntax: true,
    banner: {js: "import {createRequire as __ctrTsCreateRequire} from 'node:module';\nconst require = __ctrTsCreateRequire(import.meta.url);"},
    plugins: [metaUrlPlugin],
    metafile: true,
    logLevel: 'warning',
    legalComments: 'none',
  })
  fixOutputs(built)
}

globalThis.oclif = {...globalThis.oclif, enableAutoTranspile: false} // the manifest describes dist/bundle, never src/
const {Plugin} = await import('@oclif/core')
const plugin = new Plugin({root, type: 'core', ignoreManifest: true, errorOnManifestCreate: true, isRoot: true})
await plugin.load()
writeFileSync(join(root, 'oclif.manifest.json'), JSON.stringify(plugin.manifest, null, 2) + '\n')
// What src/cli/launch.ts needs to run one of our commands without reading the whole manifest:
// every id with its aliases, and each command's manifest entry in a file of its own.
const manifestDir = join(outdir, 'manifest')
mkdirSync(manifestDir, {recursive: true})
const index = {}
for (const [id, entry] of Object.entries(plugin.manifest.commands)) {
  index[id] = entry.aliases ?? []
  writeFileSync(join(manifestDir, `${id}.json`), JSON.stringify(entry))
}
for (const id of FAST_COMMANDS) if (!index[id]) throw new Error(`FAST_COMMANDS: no command ${id}`)
const helpFlags = ['--help', ...(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).oclif?.additionalHelpFlags ?? [])]
writeFileSync(join(manifestDir, 'index.json'), JSON.stringify({version: plugin.manifest.version, commands: index, fast: fastDirs, helpFlags}))
console.log(`built: ${Object.keys(plugin.manifest.commands).length} commands`)
