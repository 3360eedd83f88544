import {describe, expect, it} from 'vitest'
import {UsageError} from '../../src/errors.js'
import type {ImageConfig} from '../../src/oci/types.js'
import {
  DEFAULT_CAPABILITIES,
  DEFAULT_PATH,
  MASKED_PATHS,
  READONLY_PATHS,
  generateSpec,
  mergeEnv,
  nofileFor,
  readNofileLimit,
  resolveArgs,
  resolveCapabilities,
  type SpecInput,
} from '../../src/spec/generate.js'
import {checkResourceSupport, evaluateResourceSupport, gatherCgroupFacts} from '../../src/spec/resources.js'

function image(config: ImageConfig['config'] = {}): ImageConfig {
  return {architecture: 'amd64', os: 'linux', config, rootfs: {type: 'layers', diff_ids: []}}
}

const ID = '0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'

function input(over: Partial<SpecInput> = {}): SpecInput {
  return {
    image: image({Cmd: ['sh']}),
    rootfsPath: '/run/c/merged',
    containerId: ID,
    tty: false,
    stdin: false,
    readOnly: false,
    network: 'none',
    nofile: {soft: 4096, hard: 4096},
    ...over,
  }
}

describe('resolveArgs (docker rules)', () => {
  const both = image({Entrypoint: ['/ep', '-x'], Cmd: ['cmd', 'arg']})
  it('entrypoint + cmd', () => {
    expect(resolveArgs(both, undefined, undefined)).toEqual(['/ep', '-x', 'cmd', 'arg'])
    expect(resolveArgs(both, [], undefined)).toEqual(['/ep', '-x', 'cmd', 'arg'])
  })
  it('args replace Cmd and keep Entrypoint', () => {
    expect(resolveArgs(both, ['other'], undefined)).toEqual(['/ep', '-x', 'other'])
    expect(resolveArgs(image({Cmd: ['sh']}), ['echo', 'hi'], undefined)).toEqual(['echo', 'hi'])
  })
  it('--entrypoint replaces Entrypoint and clears the image Cmd', () => {
    expect(resolveArgs(both, undefined, '/bin/ls')).toEqual(['/bin/ls'])
    expect(resolveArgs(both, ['-l', '/'], '/bin/ls')).toEqual(['/bin/ls', '-l', '/'])
  })
  it("--entrypoint '' clears Entrypoint and keeps Cmd (docker)", () => {
    expect(resolveArgs(both, undefined, '')).toEqual(['cmd', 'arg'])
    expect(resolveArgs(both, ['echo'], '')).toEqual(['echo'])
  })
  it('nothing to run is a usage error', () => {
    expect(() => resolveArgs(image({}), undefined, undefined)).toThrow(new UsageError('no command specified'))
    expect(() => resolveArgs(image({Entrypoint: ['/ep']}), undefined, '')).toThrow('no command specified')
    expect(() => resolveArgs(image({Entrypoint: null, Cmd: null}), [], undefined)).toThrow(UsageError)
    expect(() => resolveArgs({...image(), config: undefined}, undefined, undefined)).toThrow(UsageError)
  })
})

describe('mergeEnv', () => {
  it('orders image env, defaults, env files, -e; later wins', () => {
    const env = mergeEnv({
      imageEnv: ['PATH=/img/bin', 'A=image', 'B=image', 'C=image'],
      hostname: 'h1',
      tty: true,
      envFiles: ['B=file', 'C=file', 'HOSTNAME=fromfile'],
      env: ['C=flag', 'D=flag'],
      home: '/home/u',
    })
    expect(env).toEqual(['PATH=/img/bin', 'A=image', 'B=file', 'C=flag', 'HOSTNAME=fromfile', 'TERM=xterm', 'D=flag', 'HOME=/home/u'])
  })
  it('adds PATH when missing, no TERM without tty, HOME=/ by default', () => {
    expect(mergeEnv({hostname: 'h', tty: false})).toEqual([`PATH=${DEFAULT_PATH}`, 'HOSTNAME=h', 'HOME=/'])
  })
  it('keeps an image HOME', () => {
    expect(mergeEnv({imageEnv: ['HOME=/srv'], hostname: 'h', tty: false, home: '/root'})).toContain('HOME=/srv')
  })
  it('takes bare KEY from the host environment, or drops it', () => {
    const env = mergeEnv({
      hostname: 'h',
      tty: false,
      envFiles: ['FROMFILE', 'UNSET1'],
      env: ['FOO', 'UNSET2', 'EMPTY', 'X='],
      hostEnv: {FOO: 'bar', FROMFILE: 'ff', EMPTY: ''},
    })
    expect(env).toContain('FOO=bar')
    expect(env).toContain('FROMFILE=ff')
    expect(env).toContain('EMPTY=')
    expect(env).toContain('X=')
    expect(env.some((e) => e.startsWith('UNSET'))).toBe(false)
  })
  it('rejects -e without a name', () => {
    expect(() => mergeEnv({hostname: 'h', tty: false, env: ['=x']})).toThrow(UsageError)
  })
})

describe('resolveCapabilities', () => {
  it('is docker default set', () => {
    expect(resolveCapabilities()).toEqual([...DEFAULT_CAPABILITIES])
    expect(DEFAULT_CAPABILITIES).toHaveLength(14)
  })
  it('adds and drops, with or without CAP_, any case', () => {
    const caps = resolveCapabilities(['NET_ADMIN', 'cap_sys_ptrace'], ['MKNOD', 'CAP_NET_RAW'])
    expect(caps).toContain('CAP_NET_ADMIN')
    expect(caps).toContain('CAP_SYS_PTRACE')
    expect(caps).not.toContain('CAP_MKNOD')
    expect(caps).not.toContain('CAP_NET_RAW')
    expect(caps).toContain('CAP_CHOWN')
  })
  it('supports ALL', () => {
    expect(resolveCapabilities([], ['ALL'])).toEqual([])
    expect(resolveCapabilities(['CHOWN'], ['all'])).toEqual(['CAP_CHOWN'])
    const all = resolveCapabilities(['ALL'], ['SYS_ADMIN'])
    expect(all).toContain('CAP_SYS_MODULE')
    expect(all).not.toContain('CAP_SYS_ADMIN')
    expect(all.length).toBe(40)
  })
  it('rejects unknown capabilities', () => {
    expect(() => resolveCapabilities(['FLY'])).toThrow(/unknown capability "FLY"/)
  })
})

describe('nofile', () => {
  it('uses 1048576 when allowed, else the hard limit', () => {
    expect(nofileFor({hard: 2000000})).toEqual({soft: 1048576, hard: 1048576})
    expect(nofileFor({hard: 20000})).toEqual({soft: 20000, hard: 20000})
  })
  it('reads /proc/self/limits', () => {
    const text = 'Limit                     Soft Limit           Hard Limit           Units\nMax open files            1024                 20000                files\n'
    expect(readNofileLimit(text)).toEqual({soft: 20000, hard: 20000})
    expect(readNofileLimit('Max open files unlimited unlimited files')).toEqual({soft: 1048576, hard: 1048576})
    const real = readNofileLimit()
    expect(real.hard).toBeGreaterThan(0)
    expect(real.soft).toBe(real.hard)
  })
})

describe('generateSpec', () => {
  it('has the rootless shape: no user namespace, no id mappings', () => {
    const spec = generateSpec(input())
    const types = spec.linux.namespaces.map((n) => n.type)
    expect(types.sort()).toEqual(['cgroup', 'ipc', 'mount', 'network', 'pid', 'uts'])
    expect(types).not.toContain('user')
    expect(JSON.stringify(spec)).not.toMatch(/uidMappings|gidMappings/)
    expect(spec.linux.resources).toBeUndefined()
    expect(spec.ociVersion).toMatch(/^1\.0\./)
    expect(spec.root).toEqual({path: '/run/c/merged', readonly: false})
    // docker's default: no-new-privileges off (--security-opt no-new-privileges turns it on)
    expect(spec.process.noNewPrivileges).toBe(false)
    expect(generateSpec(input({noNewPrivileges: true})).process.noNewPrivileges).toBe(true)
    expect(spec.linux.seccomp).toBeUndefined()
    expect(spec.process.terminal).toBe(false)
    expect(spec.process.user).toEqual({uid: 0, gid: 0, additionalGids: [0]})
    expect(spec.process.cwd).toBe('/')
    expect(spec.process.args).toEqual(['sh'])
    expect(spec.hostname).toBe(ID.slice(0, 12))
    expect(spec.process.env).toContain(`HOSTNAME=${ID.slice(0, 12)}`)
    expect(spec.process.env).toContain('HOME=/root')
    expect(spec.process.rlimits).toEqual([{type: 'RLIMIT_NOFILE', soft: 4096, hard: 4096}])
    expect(spec.annotations).toBeUndefined()
  })
  it('namespaces per network mode', () => {
    expect(generateSpec(input({network: 'slirp4netns'})).linux.namespaces).toContainEqual({type: 'network'})
    const host = generateSpec(input({network: 'host'}))
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain('network')
    expect(host.linux.namespaces.map((n) => n.type)).not.toContain('user')
  })
  it('mounts the system file systems; sysfs only with an own network namespace', () => {
    const spec = generateSpec(input())
    const dests = spec.mounts.map((m) => m.destination)
    expect(dests).toEqual(['/proc', '/dev', '/dev/pts', '/dev/shm', '/dev/mqueue', '/sys', '/sys/fs/cgroup'])
    const byDest = Object.fromEntries(spec.mounts.map((m) => [m.destination, m]))
    expect(byDest['/proc']!.type).toBe('proc')
    expect(byDest['/dev']!.options).toEqual(expect.arrayContaining(['nosuid', 'strictatime', 'mode=755', 'size=65536k']))
    expect(byDest['/dev/pts']!.options).toEqual(expect.arrayContaining(['newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5']))
    expect(byDest['/dev/shm']!.type).toBe('tmpfs')
    expect(byDest['/dev/mqueue']!.type).toBe('mqueue')
    expect(byDest['/sys']).toMatchObject({type: 'sysfs', options: expect.arrayContaining(['ro', 'nosuid', 'noexec', 'nodev'])})
    expect(byDest['/sys/fs/cgroup']!.options).toContain('ro')
    const host = generateSpec(input({network: 'host'}))
    expect(host.mounts.find((m) => m.destination === '/sys')).toMatchObject({type: 'bind', source: '/sys', options: expect.arrayContaining(['rbind', 'ro'])})
  })
  it('masks and write-protects docker default paths', () => {
    const spec = generateSpec(input())
    expect(spec.linux.maskedPaths).toEqual([...MASKED_PATHS])
    expect(spec.linux.maskedPaths).toEqual(expect.arrayContaining(['/proc/kcore', '/proc/keys', '/sys/firmware', '/proc/timer_list']))
    expect(spec.linux.readonlyPaths).toEqual([...READONLY_PATHS])
    expect(spec.linux.readonlyPaths).toContain('/proc/sys')
  })
  it('capabilities: default set in bounding/effective/permitted, add/drop applied', () => {
    const spec = generateSpec(input({capAdd: ['SYS_PTRACE'], capDrop: ['NET_RAW']}))
    const c = spec.process.capabilities
    for (const set of [c.bounding, c.effective, c.permitted]) {
      expect(set).toContain('CAP_SYS_PTRACE')
      expect(set).toContain('CAP_CHOWN')
      expect(set).not.toContain('CAP_NET_RAW')
    }
    expect(c.inheritable).toEqual([])
    expect(c.ambient).toEqual([])
  })
  it('read-only root', () => {
    const spec = generateSpec(input({readOnly: true, etcFiles: {hosts: '/c/etc/hosts'}}))
    expect(spec.root.readonly).toBe(true)
    expect(spec.mounts.find((m) => m.destination === '/etc/hosts')!.options).toContain('ro')
    expect(generateSpec(input({etcFiles: {hosts: '/c/etc/hosts'}})).mounts.find((m) => m.destination === '/etc/hosts')!.options).toContain('rw')
  })
  it('--init: binds the init read-only at /dev/init and runs the command under it', () => {
    const spec = generateSpec(input({init: {hostPath: '/usr/bin/tini-static'}, args: ['sleep', '1']}))
    expect(spec.process.args).toEqual(['/dev/init', '--', 'sleep', '1'])
    expect(spec.mounts).toContainEqual(expect.objectContaining({destination: '/dev/init', source: '/usr/bin/tini-static', type: 'bind', options: expect.arrayContaining(['ro'])}))
  })
  it('binds volumes, tmpfs and etc files after the system mounts', () => {
    const spec = generateSpec(
      input({
        mounts: [{source: '/data', destination: '/mnt', readOnly: true}, '/tmp:/hosttmp'],
        tmpfs: ['/run:size=1m', {destination: '/cache', options: ['nosuid']}],
        etcFiles: {hosts: '/c/hosts', resolvConf: '/c/resolv.conf', hostname: '/c/hostname'},
      }),
    )
    const tail = spec.mounts.slice(7)
    expect(tail.map((m) => m.destination)).toEqual(['/mnt', '/hosttmp', '/run', '/cache', '/etc/hosts', '/etc/resolv.conf', '/etc/hostname'])
    expect(tail[0]).toEqual({destination: '/mnt', type: 'bind', source: '/data', options: ['rbind', 'nosuid', 'nodev', 'ro', 'rprivate']})
    expect(tail[1]!.options).toContain('rw')
    expect(tail[2]).toEqual({destination: '/run', type: 'tmpfs', source: 'tmpfs', options: ['noexec', 'nosuid', 'nodev', 'size=1m']})
    expect(tail[4]).toMatchObject({type: 'bind', source: '/c/hosts'})
  })
  it('a -v over /etc/hosts replaces the generated one; duplicates are refused', () => {
    const spec = generateSpec(input({mounts: ['/tmp:/etc/hosts'], etcFiles: {hosts: '/c/hosts'}}))
    expect(spec.mounts.filter((m) => m.destination === '/etc/hosts')).toHaveLength(1)
    expect(spec.mounts.find((m) => m.destination === '/etc/hosts')!.source).toBe('/tmp')
    expect(() => generateSpec(input({mounts: ['/tmp:/x'], tmpfs: ['/x']}))).toThrow(/duplicate mount point: \/x/)
  })
  it('raw -v strings are validated', () => {
    expect(() => generateSpec(input({mounts: ['/definitely/not/here:/x']}))).toThrow(/does not exist/)
    expect(() => generateSpec(input({mounts: ['vol:/x']}))).toThrow(/named volumes/)
  })
  it('user, cwd, tty', () => {
    const spec = generateSpec(
      input({
        user: {uid: 1000, gid: 1000, additionalGids: [5, 999], home: '/home/u', name: 'u'},
        workdir: '/srv',
        tty: true,
        image: image({Cmd: ['sh'], WorkingDir: '/app'}),
      }),
    )
    expect(spec.process.user).toEqual({uid: 1000, gid: 1000, additionalGids: [1000, 5, 999]})
    expect(spec.process.cwd).toBe('/srv')
    expect(spec.process.terminal).toBe(true)
    expect(spec.process.env).toContain('TERM=xterm')
    expect(spec.process.env).toContain('HOME=/home/u')
    expect(generateSpec(input({image: image({Cmd: ['sh'], WorkingDir: '/app'})})).process.cwd).toBe('/app')
    expect(() => generateSpec(input({workdir: 'relative'}))).toThrow(/needs to be an absolute path/)
  })
  it('hostname, env and stop signal annotation', () => {
    const spec = generateSpec(input({hostname: 'box', env: ['A=1'], image: image({Cmd: ['sh'], StopSignal: 'SIGQUIT', Env: ['A=0', 'B=2']})}))
    expect(spec.hostname).toBe('box')
    expect(spec.process.env).toEqual(['A=1', 'B=2', `PATH=${DEFAULT_PATH}`, 'HOSTNAME=box', 'HOME=/root'])
    expect(spec.annotations).toEqual({'org.opencontainers.image.stopSignal': 'SIGQUIT'})
    expect(generateSpec(input({image: image({Cmd: ['sh'], StopSignal: '9'})})).annotations).toEqual({'org.opencontainers.image.stopSignal': 'SIGKILL'})
    expect(() => generateSpec(input({image: image({Cmd: ['sh'], StopSignal: 'SIGNOPE'})}))).toThrow(UsageError)
  })
  it('resources only when requested', () => {
    const spec = generateSpec(input({resources: {memory: 512 * 1024 * 1024, cpus: 1.5, pidsLimit: 100}}))
    expect(spec.linux.resources).toEqual({memory: {limit: 536870912}, cpu: {period: 100000, quota: 150000}, pids: {limit: 100}})
    expect(generateSpec(input({resources: {}})).linux.resources).toBeUndefined()
    expect(generateSpec(input({resources: {pidsLimit: 5}})).linux.resources).toEqual({pids: {limit: 5}})
    expect(() => generateSpec(input({resources: {pidsLimit: 0}}))).toThrow(UsageError)
  })
  it('refuses a missing command', () => {
    expect(() => generateSpec(input({image: image({})}))).toThrow('no command specified')
  })
  it('is pure: same input, same output, JSON-serialisable', () => {
    const a = generateSpec(input({args: ['x']}))
    const b = generateSpec(input({args: ['x']}))
    expect(a).toEqual(b)
    expect(JSON.parse(JSON.stringify(a))).toEqual(a)
  })
})

describe('resource support', () => {
  const v2 = {fsType: 'cgroup2', ownCgroup: '/user.slice/user-1000.slice/user@1000.service/app.slice', writable: true}
  it('explains cgroup v1/hybrid', () => {
    const r = evaluateResourceSupport({fsType: 'tmpfs', ownCgroup: '/', writable: false, controllers: [], subtreeControl: []})
    expect(r.ok).toBe(false)
    if (!r.ok) {
      expect(r.reason).toMatch(/need cgroup v2 with delegation \(this machine runs cgroup v1\/hybrid\)/)
      expect(r.reason).toContain('systemd.unified_cgroup_hierarchy=1')
      expect(r.reason).toContain('https://rootlesscontaine.rs/getting-started/common/cgroup2/')
    }
  })
  it('needs a writable cgroup and the controllers', () => {
    expect(evaluateResourceSupport({...v2, writable: false, controllers: ['memory', 'cpu', 'pids'], subtreeControl: []}).ok).toBe(false)
    const missing = evaluateResourceSupport({...v2, controllers: ['memory'], subtreeControl: []})
    expect(missing.ok).toBe(false)
    if (!missing.ok) expect(missing.reason).toMatch(/cpu, pids delegated/)
    expect(evaluateResourceSupport({...v2, controllers: ['memory'], subtreeControl: []}, ['memory']).ok).toBe(true)
    expect(evaluateResourceSupport({...v2, controllers: ['cpuset', 'cpu', 'io', 'memory', 'pids'], subtreeControl: []})).toEqual({ok: true, cgroupPath: v2.ownCgroup})
  })
  it('checks the real machine (cgroup v1/hybrid here: unsupported)', () => {
    const facts = gatherCgroupFacts()
    const r = checkResourceSupport()
    expect(r).toEqual(evaluateResourceSupport(facts))
    if (facts.fsType !== 'cgroup2') {
      expect(r.ok).toBe(false)
      if (!r.ok) expect(r.reason).toMatch(/cgroup v2 with delegation/)
    }
  })
})
