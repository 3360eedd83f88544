// An esbuild plugin for the imports of Node's builtins in the CLI bundle (scripts/build.mjs).
import {builtinModules} from 'node:module'
import {relative} from 'node:path'

// `import {readFileSync} from 'node:fs'` in an ES module makes Node build the builtin's ES module
// facade, which reads every export once: the lazy getters of node:fs load fs/promises, streams,
// watchers and readline, node:util's load worker_threads... (~80 internal modules for `version`).
// Each builtin is a small module of ours instead: the builtin from process.getBuiltinModule as
// the default export and each export name read from it (pure, so esbuild keeps only the names
// the importer uses: a lazy getter runs only where its name is imported).
const IDENTIFIER = /^[A-Za-z_$][\w$]*$/
const RESERVED = new Set(['default', 'constructor', 'prototype', 'arguments', 'eval', 'enum', 'await', 'yield', 'let', 'static', 'implements', 'interface', 'package', 'private', 'protected', 'public'])
// Builtins that cost milliseconds to load (each pulls in streams, sockets, OpenSSL bindings...)
// and that many modules import for one function they call later, if ever: loaded at that
// first call. `ctr-ts ps` imports the container modules, which import child_process and crypto
// for what `run` does. Not net, streams, http, fs/promises, timers/promises, readline: with
// those lazy too, `docker run -it` through the API service (test/e2e/api-docker.test.ts, after
// the file's other tests) never got its terminal size; not understood yet, and a piped stdout
// loads net and streams anyway.
const LAZY_BUILTINS = new Set(['child_process', 'crypto', 'dgram', 'dns', 'http2', 'https', 'tls', 'worker_threads', 'zlib'])
/** A plain function (no class, no static properties, no promisify.custom): a forwarding function can stand in for it. */
function forwardable(value) {
  if (typeof value !== 'function' || /^class[\s{]/.test(Function.prototype.toString.call(value))) return false
  if (Object.getOwnPropertyNames(value).some((k) => !['length', 'name', 'prototype'].includes(k)) || Object.getOwnPropertySymbols(value).length > 0) return false
  const proto = Object.getOwnPropertyDescriptor(value, 'prototype')?.value
  return proto === undefined || (Object.getOwnPropertyNames(proto).every((k) => k === 'constructor') && Object.getOwnPropertySymbols(proto).length === 0)
}
/** The source of our module for builtin `name` (`fs`, `fs/promises`). */
export function builtinModuleSource(name) {
  const real = process.getBuiltinModule(`node:${name}`)
  const names = real && (typeof real === 'object' || typeof real === 'function') ? Object.getOwnPropertyNames(real) : []
  const lazy = LAZY_BUILTINS.has(name)
  const load = `process.getBuiltinModule(${JSON.stringify(`node:${name}`)})`
  const lines = lazy
    ? [`let __loaded`, `const __builtin = () => (__loaded ??= ${load})`, 'export default /* @__PURE__ */ __builtin()', 'const __read = (k) => __builtin()[k]']
    : [`const __module = ${load}`, 'const __builtin = () => __module', 'export default __module', 'const __read = (k) => __module[k]']
  for (const key of names) {
    if (!IDENTIFIER.test(key) || RESERVED.has(key) || key.startsWith('_') || DEPRECATED.has(key) || (typeof real === 'function' && ['length', 'name', 'caller'].includes(key))) continue
    const descriptor = Object.getOwnPropertyDescriptor(real, key)
    if (lazy && descriptor && 'value' in descriptor && forwardable(descriptor.value)) {
      lines.push(`export function ${key}(...args) { return __builtin().${key}(...args) }`)
    } else {
      lines.push(`export const ${key} = /* @__PURE__ */ __read(${JSON.stringify(key)})`)
    }
  }
  return lines.join('\n') + '\n'
}
// lazy getters that warn (DEP0176, DEP0093...): a namespace import would read them all
const DEPRECATED = new Set(['F_OK', 'R_OK', 'W_OK', 'X_OK', 'fips', 'prng', 'pseudoRandomBytes', 'rng'])
const BUILTINS = new Set(builtinModules.filter((m) => !m.startsWith('_')).flatMap((m) => [m, `node:${m}`]))
/** The esbuild plugin: `root` is the package root (the importers' paths are named relative to it). */
export function builtinModulesPlugin(root) {
  return {
  name: 'builtins-without-facade',
  setup(build) {
    build.onResolve({filter: /^[a-z0-9_:/]+$/}, (args) => {
      if (!BUILTINS.has(args.path) || args.kind === 'require-call') return undefined
      // one module per importer: a getter runs where its name is imported, when that module runs
      return {path: args.path.replace(/^node:/, ''), namespace: 'builtin', suffix: `?${relative(root, args.importer)}`}
    })
    build.onLoad({filter: /.*/, namespace: 'builtin'}, (args) => ({contents: builtinModuleSource(args.path), loader: 'js'}))
  },
  }
}
