import {spawnSync} from 'node:child_process'
import {mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
// @ts-expect-error: a build script in JavaScript, without types
import {builtinModuleSource, builtinModulesPlugin} from '../../scripts/builtin-modules.mjs'

describe('builtinModuleSource (the bundle build)', () => {
  it('reads a cheap builtin at once, each export a pure read esbuild can drop', () => {
    const src: string = builtinModuleSource('fs')
    expect(src).toContain('const __module = process.getBuiltinModule("node:fs")')
    expect(src).toContain('export const readFileSync = /* @__PURE__ */ __read("readFileSync")')
    expect(src).not.toMatch(/export const F_OK/) // deprecated getters are never read
  })
  it('loads a heavy builtin at the first call of a plain function; classes and functions with properties are read as they are', () => {
    const src: string = builtinModuleSource('child_process')
    expect(src).toContain('export function spawn(...args) { return __builtin().spawn(...args) }')
    expect(src).toContain('export const ChildProcess = /* @__PURE__ */ __read("ChildProcess")')
    expect(src).toContain('export const exec = /* @__PURE__ */ __read("exec")') // util.promisify.custom
    expect(src).toContain('export default /* @__PURE__ */ __builtin()')
  })
})

describe('builtinModulesPlugin (bundled)', () => {
  it('a bundle importing node:crypto and node:fs loads neither facade nor crypto until it is used', async () => {
    const esbuild = await import('esbuild')
    const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-builtins-'))
    try {
      writeFileSync(join(dir, 'entry.js'), [
        "import {createHash} from 'node:crypto'",
        "import {readFileSync} from 'node:fs'",
        "import process from 'node:process'",
        "const before = process.moduleLoadList.filter((m) => m === 'NativeModule crypto').length",
        "readFileSync(process.argv[1])",
        "const hash = createHash('sha256').update('x').digest('hex')",
        "const after = process.moduleLoadList.filter((m) => m === 'NativeModule crypto').length",
        "console.log(JSON.stringify({before, after, hash, fsPromises: process.moduleLoadList.includes('NativeModule fs/promises')}))",
      ].join('\n'))
      await esbuild.build({absWorkingDir: dir, entryPoints: [join(dir, 'entry.js')], outfile: join(dir, 'out.mjs'), bundle: true, format: 'esm', platform: 'node', plugins: [builtinModulesPlugin(dir)], logLevel: 'silent'})
      const r = spawnSync(process.execPath, [join(dir, 'out.mjs')], {encoding: 'utf8'})
      expect(r.stderr).toBe('')
      expect(JSON.parse(r.stdout)).toEqual({before: 0, after: 1, hash: '2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881', fsPromises: false})
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })
})
