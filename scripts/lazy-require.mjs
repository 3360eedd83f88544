// An esbuild plugin that makes the top-level require()s of chosen CommonJS packages lazy, so a
// command evaluates only the modules it uses. Importing @oclif/core evaluates its whole library
// (help templates with ejs, semver, minimatch, spinners, readline, child_process...) even to print
// `ctr-ts version`; most of it is needed only for help, plugins or prompts.
//
// TypeScript's CommonJS output binds each import once at the top of a file and uses it only as
// `name.member` (`(0, util_1.fn)(...)`, `config_1.Config`), so
//
//     const config_1 = require("./config");        (also __importDefault(...), __importStar(...))
//
// becomes `const config_1$lazy = lazy(() => require("./config"))` and every `config_1.` becomes
// `(config_1$lazy()).`: the module is evaluated at its first use. A binding used any other way (passed
// around whole, spread) is left eager. `exports.X = __importStar(require("./x"))` re-exports in an
// index become getters. esbuild's own require wrapper already caches each module.
import {readFile} from 'node:fs/promises'

const BINDING = /^(?:const|var) (\w+) = ((?:__importDefault|__importStar)\(require\(("[^"]+"|'[^']+')\)\)|require\(("[^"]+"|'[^']+')\));$/gm
const REEXPORT = /^exports\.(\w+) = (__importStar\(require\("[^"]+"\)\));$/gm
const HELPER = '\nfunction __ctrTsLazy(load) { let m; return () => m ??= load() }\n' // hoisted; appended so "use strict" stays first

/** The transformed source, or undefined when nothing in it can be made lazy. */
export function lazyRequires(source) {
  let out = source
  let changed = false
  for (const m of source.matchAll(BINDING)) {
    const [line, name, expr] = m
    const id = name.replace(/\$/g, '\\$')
    const all = out.match(new RegExp(`(?<![\\w$.])${id}(?![\\w$])`, 'g'))?.length ?? 0
    const members = out.match(new RegExp(`(?<![\\w$.])${id}\\.`, 'g'))?.length ?? 0
    const memberOnly = members > 0 && all === members + 1 // + the declaration
    if (!memberOnly) continue
    out = out.replace(line, `const ${name}$lazy = __ctrTsLazy(() => ${expr});`)
    out = out.replace(new RegExp(`(?<![\\w$.])${id}\\.`, 'g'), `(${name}$lazy()).`) // parenthesized: `new x_1.Y()` stays `new (x_1$lazy()).Y()`
    changed = true
  }
  out = out.replace(REEXPORT, (_, name, expr) => {
    changed = true
    return `{ const get = __ctrTsLazy(() => ${expr}); Object.defineProperty(exports, ${JSON.stringify(name)}, {enumerable: true, get}); }`
  })
  return changed ? out + HELPER : undefined
}

/**
 * `packages`: names whose files (under node_modules/<name>/) get lazy requires; `drop`: exact lines
 * removed; `patches`: [from, to] text replacements, each of which must apply somewhere (else the
 * build fails: the package changed and the patch needs a look).
 */
export function lazyRequirePlugin({packages, drop = [], patches = []}) {
  const filter = new RegExp(`[\\\\/]node_modules[\\\\/](${packages.map((p) => p.replace(/[/\\^$.*+?()[\]{}|]/g, '\\$&')).join('|')})[\\\\/].*\\.js$`)
  return {
    name: 'lazy-require',
    setup(build) {
      const applied = new Set()
      build.onEnd((result) => {
        if (result.errors.length > 0) return
        const missing = patches.filter(([from]) => !applied.has(from))
        if (missing.length > 0) throw new Error(`lazy-require: patch not applied (package changed?): ${missing.map(([f]) => f).join(', ')}`)
      })
      build.onLoad({filter}, async (args) => {
        let text = await readFile(args.path, 'utf8')
        for (const line of drop) text = text.replace(`\n${line}\n`, '\n')
        for (const [from, to] of patches) {
          if (!text.includes(from)) continue
          text = text.replaceAll(from, to)
          applied.add(from)
        }
        const contents = lazyRequires(text)
        return contents === undefined ? {contents: text, loader: 'js'} : {contents, loader: 'js'}
      })
    },
  }
}
