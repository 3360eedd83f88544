import {mkdirSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {afterEach, beforeEach, describe, expect, it} from 'vitest'
import {createRequire} from 'node:module'
import {getDefaultSearchPlaces} from 'cosmiconfig'
import {loadConfig, mayFindProjectConfig, META_SEARCH_PLACES, PROJECT_SEARCH_PLACES} from '../../src/config/load.js'
import {defaultConfig, flattenConfig, mergeConfig, validateConfig} from '../../src/config/schema.js'
import {configLines} from '../../src/config/show.js'
import {ConfigError} from '../../src/errors.js'

let base: string
let home: string
let project: string
let cwd: string
let env: NodeJS.ProcessEnv

function write(path: string, text: string): string {
  mkdirSync(join(path, '..'), {recursive: true})
  writeFileSync(path, text)
  return path
}

beforeEach(() => {
  base = mkdtempSync(join(tmpdir(), 'ctr-ts-config-'))
  home = join(base, 'home')
  project = join(home, 'proj')
  cwd = join(project, 'a', 'b')
  mkdirSync(cwd, {recursive: true})
  // only what the loader looks at: no CTR_TS_* from the outer environment
  env = {HOME: home, XDG_CONFIG_HOME: join(home, '.config')}
})

afterEach(() => rmSync(base, {recursive: true, force: true}))

describe('config discovery', () => {
  it('uses the defaults when nothing is configured', async () => {
    const r = await loadConfig({cwd, env})
    expect(r.config).toEqual(defaultConfig())
    expect(r.sources).toEqual([])
    expect(r.origins['runtime.name']).toBe('default')
  })

  it('reads the "ctr-ts" key of package.json found upward', async () => {
    const file = write(join(project, 'package.json'), JSON.stringify({name: 'p', 'ctr-ts': {network: {default: 'none'}}}))
    const r = await loadConfig({cwd, env})
    expect(r.config.network.default).toBe('none')
    expect(r.origins['network.default']).toBe(file)
  })

  it('reads .ctr-tsrc as JSON', async () => {
    const file = write(join(project, 'a', '.ctr-tsrc'), '{"runtime": {"name": "crun"}}')
    const r = await loadConfig({cwd, env})
    expect(r.config.runtime.name).toBe('crun')
    expect(r.origins['runtime.name']).toBe(file)
  })

  it('reads .ctr-tsrc as YAML', async () => {
    write(join(cwd, '.ctr-tsrc'), 'runtime:\n  name: crun\nregistries:\n  127.0.0.1:5000:\n    insecure: true\n')
    const r = await loadConfig({cwd, env})
    expect(r.config.runtime.name).toBe('crun')
    expect(r.config.registries['127.0.0.1:5000']).toEqual({insecure: true})
  })

  it('reads ctr-ts.config.mjs', async () => {
    const file = write(join(project, 'ctr-ts.config.mjs'), 'export default {platform: "linux/arm64", logs: {maxSize: 1024}}\n')
    const r = await loadConfig({cwd, env})
    expect(r.config.platform).toBe('linux/arm64')
    expect(r.config.logs.maxSize).toBe(1024)
    expect(r.origins.platform).toBe(file)
  })

  it('the nearest project file wins over one further up', async () => {
    write(join(project, '.ctr-tsrc'), '{"runtime": {"name": "crun"}}')
    const near = write(join(cwd, '.ctr-tsrc'), '{"network": {"default": "host"}}')
    const r = await loadConfig({cwd, env})
    expect(r.config.network.default).toBe('host')
    expect(r.config.runtime.name).toBe('runc') // only one project file is used
    expect(r.sources).toEqual([near])
  })

  it('reads the user file under $XDG_CONFIG_HOME/ctr-ts', async () => {
    const file = write(join(home, '.config', 'ctr-ts', 'config.yaml'), 'portProxy:\n  udpIdleTimeout: 5\n')
    const r = await loadConfig({cwd, env})
    expect(r.config.portProxy.udpIdleTimeout).toBe(5)
    expect(r.origins['portProxy.udpIdleTimeout']).toBe(file)
  })

  it('merges in order: defaults < user file < project file < --config < environment', async () => {
    const user = write(
      join(home, '.config', 'ctr-ts', 'config.json'),
      JSON.stringify({runtime: {name: 'crun'}, network: {default: 'none'}, platform: 'linux/s390x', init: {path: '/u/tini'}, registries: {a: {insecure: true}}}),
    )
    const proj = write(join(project, '.ctr-tsrc'), JSON.stringify({network: {default: 'host'}, platform: 'linux/ppc64le', registries: {a: {mirrors: ['m']}}}))
    const explicit = write(join(base, 'explicit.json'), JSON.stringify({platform: 'linux/arm64', logs: {maxSize: 10}}))
    const r = await loadConfig({cwd, env: {...env, CTR_TS_RUNTIME: 'runc'}, file: explicit})
    expect(r.config.runtime.name).toBe('runc')
    expect(r.origins['runtime.name']).toBe('env CTR_TS_RUNTIME')
    expect(r.config.network.default).toBe('host')
    expect(r.origins['network.default']).toBe(proj)
    expect(r.config.platform).toBe('linux/arm64')
    expect(r.origins.platform).toBe(explicit)
    expect(r.config.init.path).toBe('/u/tini')
    expect(r.origins['init.path']).toBe(user)
    expect(r.config.registries.a).toEqual({insecure: true, mirrors: ['m']})
    expect(r.origins['registries.a.insecure']).toBe(user)
    expect(r.origins['registries.a.mirrors']).toBe(proj)
    expect(r.sources).toEqual([user, proj, explicit, 'environment'])
  })

  it('CTR_TS_CONFIG names the explicit file when --config is not given', async () => {
    const file = write(join(base, 'c.json'), '{"network": {"default": "none"}}')
    const r = await loadConfig({cwd, env: {...env, CTR_TS_CONFIG: file}})
    expect(r.origins['network.default']).toBe(file)
  })

  it('every environment variable sets its key', async () => {
    const r = await loadConfig({
      cwd,
      env: {
        ...env,
        CTR_TS_ROOT: '/r',
        CTR_TS_RUNROOT: '/rr',
        CTR_TS_RUNTIME: 'crun',
        CTR_TS_RUNTIME_PATH: '/x/crun',
        CTR_TS_NETWORK: 'none',
        CTR_TS_PLATFORM: 'linux/arm64/v8',
        CTR_TS_INIT_PATH: '/x/tini',
      },
    })
    expect(r.config.storage).toEqual({root: '/r', runRoot: '/rr'})
    expect(r.config.runtime).toEqual({name: 'crun', path: '/x/crun'})
    expect(r.config.network.default).toBe('none')
    expect(r.config.platform).toBe('linux/arm64/v8')
    expect(r.config.init.path).toBe('/x/tini')
    expect(r.origins['storage.runRoot']).toBe('env CTR_TS_RUNROOT')
  })
})

describe('config validation', () => {
  const reject = async (file: string, message: string) => {
    const err = await loadConfig({cwd, env, file}).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ConfigError)
    expect((err as Error).message).toBe(message)
  }

  it('an unknown top-level key names the file, the key and the known keys', async () => {
    const file = write(join(base, 'c.json'), '{"runtimes": {}}')
    await reject(file, `${file}: runtimes: expected one of the keys registries, storage, runtime, network, platform, logs, portProxy, init, rootfs, security`)
  })

  it('an unknown nested key', async () => {
    const file = write(join(base, 'c.json'), '{"storage": {"rot": "/x"}}')
    await reject(file, `${file}: storage.rot: expected one of the keys root, runRoot`)
  })

  it('a wrong type', async () => {
    const file = write(join(base, 'c.json'), '{"network": {"allowHostLoopback": "yes"}}')
    await reject(file, `${file}: network.allowHostLoopback: expected true or false`)
  })

  it('a wrong registry key in a YAML project file', async () => {
    const file = write(join(cwd, '.ctr-tsrc'), 'registries:\n  docker.io:\n    mirrors: http://m\n')
    const err = await loadConfig({cwd, env}).catch((e: unknown) => e)
    expect((err as Error).message).toBe(`${file}: registries.docker.io.mirrors: expected a list of strings`)
  })

  it('a bad environment variable names the variable', async () => {
    const err = await loadConfig({cwd, env: {...env, CTR_TS_RUNTIME: 'kata'}}).catch((e: unknown) => e)
    expect((err as Error).message).toBe('environment variable CTR_TS_RUNTIME: runtime.name: expected one of runc, crun')
  })

  it('a relative storage root and a malformed platform', () => {
    expect(() => validateConfig({storage: {root: 'rel'}}, 'f')).toThrow('f: storage.root: expected an absolute path')
    expect(() => validateConfig({platform: 'arm64'}, 'f')).toThrow('f: platform: expected a platform like linux/amd64 or linux/arm64/v8')
  })

  it('a file that does not parse is one line naming the file', async () => {
    const file = write(join(base, 'c.json'), '{"network": ')
    const err = (await loadConfig({cwd, env, file}).catch((e: unknown) => e)) as Error
    expect(err).toBeInstanceOf(ConfigError)
    expect(err.message.startsWith(`${file}: `)).toBe(true)
    expect(err.message).not.toContain('\n')
  })

  it('a missing --config file', async () => {
    await reject(join(base, 'nope.json'), `${join(base, 'nope.json')}: configuration file not found`)
  })
})

describe('merge, flatten and show', () => {
  it('merges objects and replaces everything else', () => {
    expect(mergeConfig({a: {b: 1, c: [1]}, d: 1}, {a: {c: [2]}, e: 2})).toEqual({a: {b: 1, c: [2]}, d: 1, e: 2})
  })

  it('flattens to dotted keys with arrays as leaves', () => {
    expect(flattenConfig({registries: {'docker.io': {mirrors: ['x']}}, logs: {}})).toEqual([['registries.docker.io.mirrors', ['x']]])
  })

  it('never shows a registry password', async () => {
    write(join(cwd, '.ctr-tsrc'), JSON.stringify({registries: {r: {username: 'u', password: 'hunter2'}}}))
    const lines = configLines(await loadConfig({cwd, env}))
    expect(JSON.stringify(lines)).not.toContain('hunter2')
    expect(lines.find((l) => l.key === 'registries.r.password')?.value).toBe('********')
  })
})

describe('templates', () => {
  it('the sample .ctr-tsrc validates', async () => {
    const {readFileSync} = await import('node:fs')
    const file = join(__dirname, '..', '..', 'templates', 'ctr-tsrc.sample.json')
    expect(() => validateConfig(JSON.parse(readFileSync(file, 'utf8')), file)).not.toThrow()
  })
})

describe('the search without cosmiconfig when there is nothing to find', () => {
  it('knows cosmiconfig\'s search places', () => {
    expect(PROJECT_SEARCH_PLACES).toEqual(getDefaultSearchPlaces('ctr-ts'))
    // not exported by the package's index: its defaults module
    const {metaSearchPlaces} = createRequire(import.meta.url)('cosmiconfig/dist/defaults.js') as {metaSearchPlaces: string[]}
    expect(META_SEARCH_PLACES).toEqual(metaSearchPlaces)
  })

  it('searches only when one of the places exists from the working directory up to HOME', () => {
    expect(mayFindProjectConfig(cwd, home)).toBe(false)
    // a package.json counts only with a "ctr-ts" key
    write(join(project, 'package.json'), '{"name": "p"}')
    expect(mayFindProjectConfig(cwd, home)).toBe(false)
    write(join(project, 'package.json'), '{"name": "p", "ctr-ts": {}}')
    expect(mayFindProjectConfig(cwd, home)).toBe(true)
    rmSync(join(project, 'package.json'))
    // above HOME is not searched
    write(join(base, '.ctr-tsrc'), '{}')
    expect(mayFindProjectConfig(cwd, home)).toBe(false)
    write(join(home, '.config', 'ctr-tsrc.yaml'), 'runtime: {name: crun}\n')
    expect(mayFindProjectConfig(cwd, home)).toBe(true)
  })

  it('leaves cosmiconfig\'s own meta configuration in the working directory to cosmiconfig', () => {
    write(join(cwd, '.config', 'config.yaml'), 'cosmiconfig: {}\n')
    expect(mayFindProjectConfig(cwd, home)).toBe(true)
  })

  it('reads a JSON user file itself and still reports one that does not parse', async () => {
    write(join(home, '.config', 'ctr-ts', 'config.json'), '{"runtime": {"name": "crun"}}')
    expect((await loadConfig({cwd, env})).config.runtime.name).toBe('crun')
    write(join(home, '.config', 'ctr-ts', 'config.json'), '{"runtime": ')
    await expect(loadConfig({cwd, env})).rejects.toThrow(ConfigError)
  })
})

