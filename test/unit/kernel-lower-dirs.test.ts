import {existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, describe, expect, it} from 'vitest'
import {storeLayout} from '../../src/paths.js'
import {kernelFormDir, kernelLowerDirs, layerDir, orphanKernelForms} from '../../src/store/layers.js'

const id = (c: string) => `sha256:${c.repeat(64)}`
const dirs: string[] = []
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, {recursive: true, force: true})
})

function store() {
  const root = mkdtempSync(join(tmpdir(), 'kld-'))
  dirs.push(root)
  const s = storeLayout(root)
  for (const d of ['a', 'b', 'c']) mkdirSync(layerDir(s, id(d)), {recursive: true})
  return s
}

describe('kernelLowerDirs', () => {
  it('stacks each layer between its form\'s above and below, topmost first, and makes missing forms once, in one run', async () => {
    const s = store()
    const runs: string[][] = []
    // b has whiteouts (above) and an opaque dir (below); a and c have none
    const make = async (jobs: Array<{layer: string; temp: string}>) => {
      runs.push(jobs.map((j) => j.layer))
      for (const j of jobs) {
        if (j.layer === layerDir(s, id('b'))) {
          mkdirSync(join(j.temp, 'above'))
          mkdirSync(join(j.temp, 'below'))
        }
      }
    }
    const discard = async () => {}
    const lowers = await kernelLowerDirs(s, [id('a'), id('b'), id('c')], make, discard)
    const kb = kernelFormDir(s, id('b'))
    expect(lowers).toEqual([layerDir(s, id('c')), join(kb, 'above'), layerDir(s, id('b')), join(kb, 'below'), layerDir(s, id('a'))])
    expect(runs).toEqual([[layerDir(s, id('c')), layerDir(s, id('b')), layerDir(s, id('a'))]])
    expect(await kernelLowerDirs(s, [id('a'), id('b'), id('c')], make, discard)).toEqual(lowers)
    expect(runs).toHaveLength(1)
    expect(readdirSync(s.layers).filter((n) => n.startsWith('.tmp-'))).toEqual([])
  })

  it('a failed maker leaves no temporary directory and no form', async () => {
    const s = store()
    const removed: string[] = []
    const make = async () => {
      throw new Error('refused')
    }
    await expect(kernelLowerDirs(s, [id('a')], make, async (...p) => void removed.push(...p))).rejects.toThrow('refused')
    expect(removed).toHaveLength(1)
    expect(existsSync(kernelFormDir(s, id('a')))).toBe(false)
  })

  it('orphanKernelForms names the forms whose layer is gone', async () => {
    const s = store()
    mkdirSync(kernelFormDir(s, id('a')))
    mkdirSync(kernelFormDir(s, id('d')))
    expect(await orphanKernelForms(s)).toEqual([kernelFormDir(s, id('d'))])
  })
})
