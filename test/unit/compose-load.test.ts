import {mkdirSync} from 'node:fs'
import {join} from 'node:path'
import {describe, expect, it} from 'vitest'
import {loadProject} from '../../src/compose/model/load.js'
import {checkProjectName, normalizeProjectName} from '../../src/compose/model/project-name.js'
import {load, projectDir} from './compose-helpers.js'

const simple = 'services:\n  web: {image: busybox}\n'

describe('finding the compose files', () => {
  it('finds compose.yaml from a subdirectory upward, with its override file', async () => {
    const dir = projectDir({'compose.yaml': simple, 'compose.override.yaml': 'services:\n  web: {user: nobody}\n', 'sub/deeper/.keep': ''})
    const p = await loadProject({workingDir: join(dir, 'sub', 'deeper'), env: {}})
    expect(p.composeFiles).toEqual([join(dir, 'compose.yaml'), join(dir, 'compose.override.yaml')])
    expect(p.workingDir).toBe(dir)
    expect(p.services.web!.user).toBe('nobody')
  })

  it('prefers compose.yaml over docker-compose.yml and warns about the other', async () => {
    const p = await load({'compose.yaml': simple, 'docker-compose.yml': 'services:\n  other: {image: x}\n'})
    expect(Object.keys(p.services)).toEqual(['web'])
    expect(p.warnings.join('\n')).toMatch(/ignoring docker-compose.yml/)
    const legacy = await load({'docker-compose.yml': simple, 'docker-compose.override.yml': 'services:\n  web: {user: u}\n'})
    expect(legacy.services.web!.user).toBe('u')
  })

  it('takes no override file when -f is given; takes COMPOSE_FILE with its separator', async () => {
    const files = {'compose.yaml': simple, 'compose.override.yaml': 'services:\n  web: {user: nobody}\n', 'b.yaml': 'services:\n  web: {hostname: h}\n'}
    const f = await load(files, {files: ['compose.yaml']})
    expect(f.services.web!.user).toBeUndefined()
    const env = await load(files, {env: {COMPOSE_FILE: 'compose.yaml:b.yaml'}})
    expect(env.services.web!.hostname).toBe('h')
    expect(env.services.web!.user).toBeUndefined()
    const sep = await load(files, {env: {COMPOSE_FILE: 'compose.yaml;b.yaml', COMPOSE_PATH_SEPARATOR: ';'}})
    expect(sep.composeFiles).toHaveLength(2)
  })

  it('says so when there is no file', async () => {
    const dir = projectDir({})
    await expect(loadProject({workingDir: dir, env: {}})).rejects.toThrow('no configuration file provided: not found')
    await expect(loadProject({workingDir: dir, env: {}, files: ['nope.yaml']})).rejects.toThrow(/nope.yaml: no such file or directory/)
  })

  it('reads "-" from stdin, relative to the working directory', async () => {
    const dir = projectDir({})
    const p = await loadProject({workingDir: dir, env: {}, files: ['-'], stdin: async () => simple})
    expect(p.services.web!.image).toBe('busybox')
    expect(p.workingDir).toBe(dir)
  })

  it('takes --project-directory for relative paths and the default name', async () => {
    const dir = projectDir({'files/compose.yaml': 'services:\n  web: {image: x, volumes: [./d:/d]}\n', 'proj/.keep': ''})
    mkdirSync(join(dir, 'proj'), {recursive: true})
    const p = await loadProject({workingDir: dir, env: {}, files: ['files/compose.yaml'], projectDirectory: 'proj'})
    expect(p.workingDir).toBe(join(dir, 'proj'))
    expect(p.name).toBe('proj')
    expect(p.services.web!.volumes[0]!.source).toBe(join(dir, 'proj', 'd'))
  })
})

describe('project names', () => {
  it('normalizes the directory name as docker compose does', () => {
    expect(normalizeProjectName('My_Proj')).toBe('my_proj')
    expect(normalizeProjectName('web app.v2')).toBe('webappv2')
    expect(normalizeProjectName('_-Leading')).toBe('leading')
    expect(normalizeProjectName('ÄÖ')).toBe('')
  })

  it('refuses explicit names that are not valid', () => {
    expect(checkProjectName('ok-name_1', '-p')).toBe('ok-name_1')
    for (const bad of ['Upper', '-lead', '_lead', 'a.b', 'a b', '']) expect(() => checkProjectName(bad, '-p'), bad).toThrow()
  })

  it('takes -p, then COMPOSE_PROJECT_NAME (also from .env), then name:, then the directory', async () => {
    const files = {'compose.yaml': `name: from-file\n${simple}`}
    expect((await load(files, {projectName: 'flag', env: {COMPOSE_PROJECT_NAME: 'env'}})).name).toBe('flag')
    expect((await load(files, {env: {COMPOSE_PROJECT_NAME: 'env'}})).name).toBe('env')
    expect((await load({...files, '.env': 'COMPOSE_PROJECT_NAME=dotenv\n'})).name).toBe('dotenv')
    expect((await load(files)).name).toBe('from-file')
    expect((await load({'compose.yaml': simple}, {}, 'My.Dir')).name).toBe('mydir')
    expect((await load({'compose.yaml': 'name: ${N:-interp}\n' + simple})).name).toBe('interp')
    await expect(load(files, {projectName: 'Bad'})).rejects.toThrow('invalid project name "Bad" (-p)')
  })

  it('exposes the project name to the files as ${COMPOSE_PROJECT_NAME}', async () => {
    const files = {'compose.yaml': 'name: shop\nservices:\n  web: {image: x, container_name: "${COMPOSE_PROJECT_NAME}-web"}\n'}
    expect((await load(files)).services.web!.container_name).toBe('shop-web')
    expect((await load(files, {projectName: 'other'})).services.web!.container_name).toBe('other-web')
    expect((await load({'compose.yaml': 'services:\n  web: {image: x, hostname: "$COMPOSE_PROJECT_NAME"}\n'}, {}, 'dirname')).services.web!.hostname).toBe('dirname')
  })

  it('names networks and volumes after the project, external ones after themselves', async () => {
    const p = await load({'compose.yaml': `services:\n  web: {image: x}\nnetworks: {n: {}, ext: {external: true}, named: {name: exact}}\nvolumes: {v: {}, ev: {external: true, name: real}}\n`}, {projectName: 'proj'})
    expect(Object.fromEntries(Object.entries(p.networks).map(([k, n]) => [k, n.name]))).toEqual({n: 'proj_n', ext: 'ext', named: 'exact', default: 'proj_default'})
    expect(p.volumes.v!.name).toBe('proj_v')
    expect(p.volumes.ev).toMatchObject({name: 'real', external: true})
  })
})

describe('environment for interpolation', () => {
  it('reads .env from the project directory; the process environment wins', async () => {
    const files = {'compose.yaml': 'services:\n  web: {image: "busybox:${TAG}", hostname: "${HOST:-none}"}\n', '.env': 'TAG=1.36\nHOST=fromfile\n'}
    expect((await load(files)).services.web).toMatchObject({image: 'busybox:1.36', hostname: 'fromfile'})
    expect((await load(files, {env: {HOST: 'fromenv'}})).services.web!.hostname).toBe('fromenv')
  })

  it('takes --env-file instead of .env (in order, later ones winning), and refuses a missing one', async () => {
    const files = {'compose.yaml': 'services:\n  web: {image: "busybox:${TAG}"}\n', '.env': 'TAG=dotenv\n', 'a.env': 'TAG=a\n', 'b.env': 'TAG=b\n'}
    expect((await load(files, {envFiles: ['a.env']})).services.web!.image).toBe('busybox:a')
    expect((await load(files, {envFiles: ['a.env', 'b.env']})).services.web!.image).toBe('busybox:b')
    await expect(load(files, {envFiles: ['nope.env']})).rejects.toThrow(/couldn't find env file: .*nope.env/)
  })

  it('takes COMPOSE_ENV_FILES when there is no --env-file; env_file format raw keeps values as written', async () => {
    const files = {'compose.yaml': 'services:\n  web: {image: "busybox:${TAG}", env_file: [{path: raw.env, format: raw}]}\n', 'a.env': 'TAG=a\n', 'b.env': 'TAG=b\n', 'raw.env': 'Q="quoted ${X}"\n'}
    const p = await load(files, {env: {COMPOSE_ENV_FILES: 'a.env,b.env'}})
    expect(p.services.web!.image).toBe('busybox:b')
    expect(p.services.web!.environment).toEqual({Q: '"quoted ${X}"'})
  })

  it('warns once per unset variable', async () => {
    const p = await load({'compose.yaml': 'services:\n  web: {image: "x${A}", hostname: "${A}"}\n'})
    expect(p.warnings).toEqual(['The "A" variable is not set. Defaulting to a blank string.'])
  })

  it('can leave variables as written', async () => {
    const p = await load({'compose.yaml': 'services:\n  web: {image: "x:${TAG}"}\n'}, {interpolate: false})
    expect(p.services.web!.image).toBe('x:${TAG}')
  })
})

describe('profiles', () => {
  const files = {
    'compose.yaml': `services:
  web: {image: w}
  test_lib: {image: t, profiles: [test]}
  coverage_lib: {image: c, depends_on: [test_lib], profiles: [test]}
  debug_lib: {image: d, depends_on: [test_lib], profiles: [debug]}
`,
  }

  it('enables services without profiles, and those of an enabled profile', async () => {
    expect(Object.keys((await load(files)).services)).toEqual(['web'])
    expect(Object.keys((await load(files)).disabledServices)).toEqual(['test_lib', 'coverage_lib', 'debug_lib'])
    expect(Object.keys((await load(files, {profiles: ['test']})).services)).toEqual(['web', 'test_lib', 'coverage_lib'])
    expect(Object.keys((await load(files, {env: {COMPOSE_PROFILES: 'test,debug'}})).services)).toHaveLength(4)
    expect(Object.keys((await load(files, {profiles: ['*']})).services)).toHaveLength(4)
  })

  it('refuses an enabled service whose dependency is disabled', async () => {
    await expect(load(files, {profiles: ['debug']})).rejects.toThrow('service "test_lib" is required by "debug_lib" but is disabled; it can be enabled by profiles [test]')
  })

  it('enables the profiles of services named on the command line', async () => {
    const p = await load(files, {services: ['coverage_lib']})
    expect(Object.keys(p.services)).toEqual(['web', 'test_lib', 'coverage_lib'])
    expect(p.profiles).toEqual(['test'])
    await expect(load(files, {services: ['nope']})).rejects.toThrow('no such service: nope')
  })

  it('drops a dependency that is not required', async () => {
    const p = await load({'compose.yaml': 'services:\n  web: {image: w, depends_on: {t: {condition: service_started, required: false}}}\n  t: {image: t, profiles: [x]}\n'})
    expect(p.services.web!.depends_on).toEqual({})
  })
})

describe('references between services', () => {
  it('refuses undefined services, networks, volumes, and cycles', async () => {
    await expect(load({'compose.yaml': 'services:\n  web: {image: x, depends_on: [db]}\n'})).rejects.toThrow('compose.yaml: services.web.depends_on: depends on undefined service "db"')
    await expect(load({'compose.yaml': 'services:\n  web: {image: x, networks: [n]}\n'})).rejects.toThrow('compose.yaml: services.web.networks: refers to undefined network "n"')
    await expect(load({'compose.yaml': 'services:\n  web: {image: x, volumes: ["v:/v"]}\n'})).rejects.toThrow('compose.yaml: services.web.volumes[0]: refers to undefined volume "v"')
    await expect(load({'compose.yaml': 'services:\n  web: {image: x, network_mode: "service:db"}\n'})).rejects.toThrow('refers to undefined service "db"')
    await expect(load({'compose.yaml': 'services:\n  a: {image: x, depends_on: [b]}\n  b: {image: x, depends_on: [c]}\n  c: {image: x, depends_on: [a]}\n'})).rejects.toThrow('dependency cycle detected: a -> b -> c -> a')
  })

  it('refuses an enabled service with neither image nor build', async () => {
    await expect(load({'compose.yaml': 'services:\n  web: {user: root}\n'})).rejects.toThrow('compose.yaml: services.web: has neither an image nor a build context specified')
    expect(Object.keys((await load({'compose.yaml': 'services:\n  web: {image: x}\n  off: {user: root, profiles: [p]}\n'})).disabledServices)).toEqual(['off'])
  })

  it('names the file that defines the attribute', async () => {
    await expect(load({'compose.yaml': simple, 'compose.override.yaml': 'services:\n  web: {depends_on: [db]}\n'})).rejects.toThrow('compose.override.yaml: services.web.depends_on: depends on undefined service "db"')
  })
})
