/**
 * Volumes end to end, through the real binary as the unprivileged user: named and anonymous
 * volumes, docker's copy-up from the image (owners kept), --volumes-from, tmpfs volumes, the
 * in-use rules and prune.
 */
import {existsSync, mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import {join} from 'node:path'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {baseLayerEntries, IMAGE_PATH_ENV} from '../harness/fixtures.js'
import {RegistryClient, sha256} from '../harness/push.js'
import {buildTar, compress} from '../harness/tar.js'

let t: TempRoot
let busybox: string
let multilayer: string
/** busybox + /srv (1000:1000, 0750) holding seed (1000:1000, 0640) and sub/deep; VOLUME /srv. */
let volImage: string
const env = () => t.env
const run = (args: string[]) => ctr(args, {env: env()})

async function pushVolumeImage(): Promise<string> {
  const host = testEnv().plainRegistry
  const layers = [
    await buildTar(baseLayerEntries()),
    await buildTar([
      {name: 'srv', type: 'directory', uid: 1000, gid: 1000, mode: 0o750},
      {name: 'srv/seed', type: 'file', uid: 1000, gid: 1000, mode: 0o640, content: 'seeded\n'},
      {name: 'srv/sub', type: 'directory', uid: 1000, gid: 1000},
      {name: 'srv/sub/deep', type: 'file', uid: 2000, gid: 3000, content: 'deep\n'},
    ]),
  ]
  const blobs = layers.map((tar) => ({tar, gz: compress(tar, 'gzip')}))
  const config = Buffer.from(
    JSON.stringify({
      architecture: 'amd64',
      os: 'linux',
      config: {Env: [IMAGE_PATH_ENV], Cmd: ['sh'], WorkingDir: '/', Volumes: {'/srv': {}}},
      rootfs: {type: 'layers', diff_ids: blobs.map((b) => sha256(b.tar))},
    }),
  )
  const client = new RegistryClient(host)
  const repo = 'fixtures/volumes'
  for (const b of blobs) await client.pushBlob(repo, b.gz)
  await client.pushBlob(repo, config)
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: {mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha256(config), size: config.length},
      layers: blobs.map((b) => ({mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha256(b.gz), size: b.gz.length})),
    }),
  )
  await client.pushManifest(repo, 'latest', manifest, 'application/vnd.oci.image.manifest.v1+json')
  return `${host}/${repo}:latest`
}

beforeAll(async () => {
  t = tempRoot()
  busybox = testEnv().fixtures.busybox!.ref
  multilayer = testEnv().fixtures['multilayer-gzip']!.ref
  volImage = await pushVolumeImage()
  for (const ref of [busybox, multilayer, volImage]) {
    const pulled = await run(['pull', '-q', ref])
    expect(pulled.exitCode, pulled.stderr).toBe(0)
  }
}, 120_000)

afterAll(async () => {
  await t?.cleanup()
})

const volumeNames = async () => (await run(['volume', 'ls', '-q'])).stdout.split('\n').filter(Boolean)

describe('volume commands', () => {
  it('creates, lists, filters, inspects and removes volumes', async () => {
    const created = await run(['volume', 'create', '--label', 'team=db', '--label', 'tier', 'pgdata'])
    expect(created.stderr).toBe('')
    expect(created.stdout).toBe('pgdata\n')
    // an existing name is kept as it is (docker)
    expect((await run(['volume', 'create', 'pgdata'])).exitCode).toBe(0)
    const anon = await run(['volume', 'create'])
    expect(anon.stdout.trim()).toMatch(/^[0-9a-f]{64}$/)

    const table = await run(['volume', 'ls'])
    expect(table.stdout.split('\n')[0]).toMatch(/^DRIVER\s+VOLUME NAME$/)
    expect(table.stdout).toMatch(/^local\s+pgdata$/m)
    expect((await run(['volume', 'ls', '-q', '--filter', 'label=team=db'])).stdout).toBe('pgdata\n')
    expect((await run(['volume', 'ls', '-q', '--filter', 'label=tier', '--filter', 'name=^pg'])).stdout).toBe('pgdata\n')
    expect((await run(['volume', 'ls', '-q', '--filter', 'label=team=web'])).stdout).toBe('')
    expect((await run(['volume', 'ls', '--format', '{{.Name}} {{.Label "team"}}', '--filter', 'name=pgdata'])).stdout).toBe('pgdata db\n')
    const json = (await run(['volume', 'ls', '--format', 'json', '--filter', 'name=pgdata'])).stdout.trim().split('\n')
    expect(json).toHaveLength(1)
    expect(JSON.parse(json[0]!)).toMatchObject({Name: 'pgdata', Driver: 'local', Scope: 'local', Labels: 'team=db,tier='})
    expect((await run(['volume', 'ls', '--filter', 'bogus=1'])).exitCode).not.toBe(0)

    const inspected = await run(['volume', 'inspect', 'pgdata'])
    expect(inspected.exitCode, inspected.stderr).toBe(0)
    const [doc] = JSON.parse(inspected.stdout) as Array<Record<string, unknown>>
    expect(doc).toMatchObject({Name: 'pgdata', Driver: 'local', Scope: 'local', Labels: {team: 'db', tier: ''}, Options: {}})
    expect(doc!.Mountpoint).toBe(join(t.root, 'volumes', 'pgdata', '_data'))
    expect(doc!.CreatedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/)
    expect(Object.keys(doc!)).toEqual(['CreatedAt', 'Driver', 'Labels', 'Mountpoint', 'Name', 'Options', 'Scope'])
    expect((await run(['volume', 'inspect', '-f', '{{.Name}}:{{.Driver}}', 'pgdata'])).stdout).toBe('pgdata:local\n')

    const missing = await run(['volume', 'inspect', 'nope'])
    expect(missing.exitCode).not.toBe(0)
    expect(missing.stderr).toMatch(/no such volume: nope/)
    const bad = await run(['volume', 'create', 'bad/name'])
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr.trim().split('\n')).toHaveLength(1)

    expect((await run(['volume', 'rm', 'pgdata', anon.stdout.trim()])).exitCode).toBe(0)
    expect(await volumeNames()).not.toContain('pgdata')
    expect(existsSync(join(t.root, 'volumes', 'pgdata'))).toBe(false)
    expect((await run(['volume', 'rm', 'pgdata'])).exitCode).not.toBe(0)
    expect((await run(['volume', 'rm', '-f', 'pgdata'])).exitCode).toBe(0)
  })
})

describe('volumes in containers', () => {
  it('keeps what one container wrote for the next; -v NAME creates it; :ro is read-only', async () => {
    const w = await run(['run', '--rm', '-v', 'shared:/data', busybox, 'sh', '-c', 'echo hello > /data/f; id -u > /data/who'])
    expect(w.exitCode, w.stderr).toBe(0)
    expect(await volumeNames()).toContain('shared')
    const r = await run(['run', '--rm', '-v', 'shared:/mnt/x:ro', busybox, 'sh', '-c', 'cat /mnt/x/f; touch /mnt/x/g'])
    expect(r.stdout).toBe('hello\n')
    expect(r.stderr).toMatch(/Read-only file system/)
    expect(r.exitCode).not.toBe(0)
    // --mount type=volume, and a container that was stopped and started again sees the same data
    const c = await run(['create', '--name', 'restarted', '--mount', 'type=volume,src=shared,dst=/d', busybox, 'sh', '-c', 'cat /d/f >> /d/count; wc -l < /d/count'])
    expect(c.exitCode, c.stderr).toBe(0)
    expect((await run(['start', '-a', 'restarted'])).stdout.trim()).toBe('1')
    expect((await run(['start', '-a', 'restarted'])).stdout.trim()).toBe('2')
    const mounts = (JSON.parse((await run(['inspect', 'restarted'])).stdout) as Array<{Mounts: unknown}>)[0]!.Mounts
    expect(mounts).toEqual([
      {Type: 'volume', Name: 'shared', Source: join(t.root, 'volumes', 'shared', '_data'), Destination: '/d', Driver: 'local', Mode: 'z', RW: true, Propagation: ''},
    ])
    expect((await run(['rm', 'restarted'])).exitCode).toBe(0)
    expect(await volumeNames()).toContain('shared') // named volumes outlive their containers
  })

  it('seeds an empty volume with the image content, owners and modes kept; nocopy does not', async () => {
    const r = await run(['run', '--rm', '-v', 'seeded:/srv', volImage, 'sh', '-c', 'stat -c "%u:%g %a %n" /srv /srv/seed /srv/sub/deep; cat /srv/seed'])
    expect(r.stderr).toBe('')
    expect(r.stdout).toBe('1000:1000 750 /srv\n1000:1000 640 /srv/seed\n2000:3000 644 /srv/sub/deep\nseeded\n')
    // the content is in the volume itself: another image without /srv sees it
    const other = await run(['run', '--rm', '-u', '1000', '-v', 'seeded:/x', busybox, 'sh', '-c', 'cat /x/seed && echo more > /x/more'])
    expect(other.stdout).toBe('seeded\n')
    expect(other.exitCode, other.stderr).toBe(0)
    // a volume that is not empty is not seeded again
    const again = await run(['run', '--rm', '-v', 'seeded:/srv', volImage, 'ls', '/srv'])
    expect(again.stdout.split('\n').filter(Boolean).sort()).toEqual(['more', 'seed', 'sub'])
    const nocopy = await run(['run', '--rm', '-v', 'plain:/srv:nocopy', volImage, 'ls', '-A', '/srv'])
    expect(nocopy.exitCode, nocopy.stderr).toBe(0)
    expect(nocopy.stdout).toBe('')
    // the copy is of the image as the container sees it: whiteouts and opaque directories applied
    const ml = await run(['run', '--rm', '-v', 'ml:/data', multilayer, 'sh', '-c', 'ls /data/dir; test -e /data/gone || echo no-gone'])
    expect(ml.stdout).toBe('new\nno-gone\n')
  })

  it('refuses to remove a volume a container uses, with or without -f (docker)', async () => {
    const d = await run(['run', '-d', '--name', 'user1', '-v', 'busy:/data', busybox, 'sleep', '1000'])
    expect(d.exitCode, d.stderr).toBe(0)
    const id = d.stdout.trim()
    for (const args of [['volume', 'rm', 'busy'], ['volume', 'rm', '-f', 'busy']]) {
      const r = await run(args)
      expect(r.exitCode).not.toBe(0)
      expect(r.stderr).toContain(`remove busy: volume is in use - [${id}]`)
    }
    expect((await run(['stop', '-t', '0', 'user1'])).exitCode).toBe(0)
    expect((await run(['volume', 'rm', 'busy'])).exitCode).not.toBe(0) // a stopped container uses it too
    expect((await run(['volume', 'ls', '-q', '--filter', 'dangling=false', '--filter', 'name=^busy$'])).stdout).toBe('busy\n')
    expect((await run(['rm', 'user1'])).exitCode).toBe(0)
    expect((await run(['volume', 'ls', '-q', '--filter', 'dangling=true', '--filter', 'name=^busy$'])).stdout).toBe('busy\n')
    expect((await run(['volume', 'rm', 'busy'])).exitCode).toBe(0)
  })

  it('seeds a volume once when two containers start on it together; rm racing a run never loses the volume', async () => {
    const both = await Promise.all([0, 1].map(() => run(['run', '--rm', '-v', 'race:/srv', volImage, 'sh', '-c', 'cat /srv/seed; ls /srv | wc -l'])))
    for (const r of both) {
      expect(r.exitCode, r.stderr).toBe(0)
      expect(r.stdout).toBe('seeded\n2\n')
    }
    expect((await run(['volume', 'create', 'race2'])).exitCode).toBe(0)
    const [started, removed] = await Promise.all([
      run(['run', '-d', '--name', 'racer', '-v', 'race2:/d', busybox, 'sh', '-c', 'echo ok > /d/f; sleep 100']),
      run(['volume', 'rm', 'race2']),
    ])
    expect(started.exitCode, started.stderr).toBe(0)
    // either rm came first (the run made the volume again) or it was refused: the volume is there
    if (removed.exitCode !== 0) expect(removed.stderr).toMatch(/volume is in use/)
    expect(await volumeNames()).toContain('race2')
    const seen = await run(['run', '--rm', '-v', 'race2:/d', busybox, 'sh', '-c', 'sleep 1; cat /d/f'])
    expect(seen.stdout).toBe('ok\n')
    expect((await run(['rm', '-f', 'racer'])).exitCode).toBe(0)
  })

  it('makes anonymous volumes for image VOLUMEs and -v /path; rm -v and --rm remove them', async () => {
    const before = await volumeNames()
    const c = await run(['create', '--name', 'anon1', '-v', '/extra', '-v', 'named1:/named', volImage, 'true'])
    expect(c.exitCode, c.stderr).toBe(0)
    const mounts = (JSON.parse((await run(['inspect', 'anon1'])).stdout) as Array<{Mounts: Array<{Name: string; Destination: string}>}>)[0]!.Mounts
    expect(mounts.map((m) => m.Destination).sort()).toEqual(['/extra', '/named', '/srv'])
    const anonymous = mounts.filter((m) => m.Destination !== '/named').map((m) => m.Name)
    for (const n of anonymous) expect(n).toMatch(/^[0-9a-f]{64}$/)
    expect(await volumeNames()).toEqual(expect.arrayContaining([...anonymous, 'named1']))
    const inspected = JSON.parse((await run(['volume', 'inspect', anonymous[0]!])).stdout) as Array<{Labels: Record<string, string>}>
    expect(inspected[0]!.Labels).toEqual({'com.docker.volume.anonymous': ''})
    // the image's VOLUME is seeded too
    expect((await run(['start', '-a', 'anon1'])).exitCode).toBe(0)
    expect((await run(['rm', '-v', 'anon1'])).exitCode).toBe(0)
    const after = await volumeNames()
    for (const n of anonymous) expect(after).not.toContain(n)
    expect(after).toContain('named1')

    // --rm: the anonymous volumes (image VOLUME and -v /path) go with the container
    const r = await run(['run', '--rm', '-v', '/scratch', '-v', 'named1:/named', volImage, 'sh', '-c', 'cat /srv/seed; touch /scratch/x'])
    expect(r.stdout).toBe('seeded\n')
    expect((await volumeNames()).sort()).toEqual([...new Set([...before, 'named1'])].sort())
    // plain rm keeps them (docker)
    expect((await run(['create', '--name', 'anon2', volImage])).exitCode).toBe(0)
    const kept = (JSON.parse((await run(['inspect', 'anon2'])).stdout) as Array<{Mounts: Array<{Name: string}>}>)[0]!.Mounts[0]!.Name
    expect((await run(['rm', 'anon2'])).exitCode).toBe(0)
    expect(await volumeNames()).toContain(kept)
  })

  it('mounts another container\'s volumes with --volumes-from, :ro making them read-only', async () => {
    expect((await run(['create', '--name', 'holder', '-v', 'vf:/data', busybox, 'true'])).exitCode).toBe(0)
    const w = await run(['run', '--rm', '--volumes-from', 'holder', busybox, 'sh', '-c', 'echo from > /data/y'])
    expect(w.exitCode, w.stderr).toBe(0)
    const r = await run(['run', '--rm', '--volumes-from', 'holder:ro', busybox, 'sh', '-c', 'cat /data/y; touch /data/z'])
    expect(r.stdout).toBe('from\n')
    expect(r.stderr).toMatch(/Read-only file system/)
    const missing = await run(['run', '--rm', '--volumes-from', 'nobody-here', busybox, 'true'])
    expect(missing.exitCode).toBe(125)
    expect((await run(['rm', 'holder'])).exitCode).toBe(0)
  })

  it('mounts tmpfs volumes (-o type=tmpfs) and host directories (o=bind), refuses what a rootless user cannot mount', async () => {
    const c = await run(['volume', 'create', '-o', 'type=tmpfs', '-o', 'device=tmpfs', '-o', 'o=size=2m,mode=1777', 'tv'])
    expect(c.exitCode, c.stderr).toBe(0)
    expect(JSON.parse((await run(['volume', 'inspect', 'tv'])).stdout)[0].Options).toEqual({type: 'tmpfs', device: 'tmpfs', o: 'size=2m,mode=1777'})
    const r = await run(['run', '--rm', '-v', 'tv:/t', busybox, 'sh', '-c', 'grep " /t " /proc/mounts; stat -c %a /t'])
    expect(r.exitCode, r.stderr).toBe(0)
    expect(r.stdout).toMatch(/^tmpfs \/t tmpfs .*size=2048k/m)
    expect(r.stdout).toMatch(/^1777$/m)
    // a host directory as a volume (compose's driver_opts: type none, o bind, device)
    const hostDir = join(t.home, 'bound')
    mkdirSync(hostDir)
    writeFileSync(join(hostDir, 'from-host'), 'host\n')
    expect((await run(['volume', 'create', '-o', 'type=none', '-o', 'o=bind', '-o', `device=${hostDir}`, 'bv'])).exitCode).toBe(0)
    const b = await run(['run', '--rm', '-v', 'bv:/b', busybox, 'sh', '-c', 'cat /b/from-host; echo back > /b/from-container'])
    expect(b.stdout).toBe('host\n')
    expect(readFileSync(join(hostDir, 'from-container'), 'utf8')).toBe('back\n')
    const nfs = await run(['volume', 'create', '-o', 'type=nfs', '-o', 'device=:/x', 'nfsvol'])
    expect(nfs.exitCode).not.toBe(0)
    expect(nfs.stderr).toMatch(/rootless/)
  })

  it('prunes unused anonymous volumes, all unused ones with -a, by label; system prune --volumes', async () => {
    expect((await run(['volume', 'create', '--label', 'keep=no', 'prune-me'])).exitCode).toBe(0)
    expect((await run(['volume', 'create', 'keep-me'])).exitCode).toBe(0)
    const anon = (await run(['volume', 'create'])).stdout.trim()
    expect((await run(['create', '--name', 'pruneuser', '-v', '/used', '-v', 'used-named:/u', busybox, 'true'])).exitCode).toBe(0)
    const usedAnon = (JSON.parse((await run(['inspect', 'pruneuser'])).stdout) as Array<{Mounts: Array<{Name: string; Destination: string}>}>)[0]!.Mounts.find(
      (m) => m.Destination === '/used',
    )!.Name

    const p = await run(['volume', 'prune', '-f'])
    expect(p.exitCode, p.stderr).toBe(0)
    expect(p.stdout).toContain(anon)
    expect(p.stdout).toMatch(/Total reclaimed space: /)
    let names = await volumeNames()
    expect(names).not.toContain(anon)
    expect(names).toEqual(expect.arrayContaining(['prune-me', 'keep-me', usedAnon, 'used-named']))

    expect((await run(['volume', 'prune', '-a', '-f', '--filter', 'label=keep=no'])).stdout).toContain('prune-me')
    names = await volumeNames()
    expect(names).not.toContain('prune-me')
    expect(names).toContain('keep-me')

    // no confirmation without a terminal
    expect((await run(['volume', 'prune'])).exitCode).not.toBe(0)

    expect((await run(['rm', 'pruneuser'])).exitCode).toBe(0)
    const info = await run(['system', 'info'])
    expect(info.stdout).toMatch(/^Volumes: \d+$/m)
    const sp = await run(['system', 'prune', '-f', '--volumes'])
    expect(sp.exitCode, sp.stderr).toBe(0)
    names = await volumeNames()
    expect(names).not.toContain(usedAnon)
    expect(names).toEqual(expect.arrayContaining(['keep-me', 'used-named']))
  })
})
