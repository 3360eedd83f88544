/**
 * `commit` (the container's changes as a new layer: new files with their owners, a deleted file
 * and a replaced directory as whiteouts), `export` (the merged root filesystem) and `import`
 * (a tar as a one-layer image), through real containers.
 */
import {execFileSync} from 'node:child_process'
import {createHash} from 'node:crypto'
import {mkdtempSync, readFileSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {CLI, ctr, removeTree, tempRoot, type TempRoot} from '../harness/cli.js'
import {testEnv} from '../harness/env.js'
import {MULTILAYER} from '../harness/fixtures.js'

const env = testEnv()
const ml = env.fixtures['multilayer-gzip']!
const KEEP = MULTILAYER.keep.path
let t: TempRoot
let dir: string
const uniq = `${process.pid}-${Date.now().toString(36)}`

beforeAll(async () => {
  t = tempRoot()
  dir = mkdtempSync(join(tmpdir(), 'ctr-commit-'))
  const r = await ctr(['pull', '-q', ml.ref], {env: t.env})
  expect(r.exitCode, r.stderr).toBe(0)
  const c = await ctr(
    ['run', '--name', 'c1', '--network', 'none', ml.ref, 'sh', '-c', `echo hello > /data/new.txt && chown 1000:1000 /data/new.txt && rm ${KEEP} && rm -rf /data/dir && mkdir /data/dir && echo x > /data/dir/x`],
    {env: t.env},
  )
  expect(c.exitCode, c.stderr).toBe(0)
}, 120_000)
afterAll(async () => {
  await t?.cleanup()
  await removeTree(dir)
})

const CHECK = `cat /data/new.txt; stat -c %u:%g /data/new.txt; test -e ${KEEP} && echo present || echo absent; ls /data/dir; cat ${MULTILAYER.ownedApp.path} >/dev/null && stat -c %u ${MULTILAYER.ownedApp.path}`

describe('commit', () => {
  it('keeps files written in the container, with their owners, deletions and a replaced directory; -c and -m apply', async () => {
    const c = await ctr(['commit', '-c', 'CMD ["cat", "/data/new.txt"]', '-c', 'ENV STAGE=committed', '-m', 'from c1', '-a', 'tester', 'c1', 'local/committed:1'], {env: t.env})
    expect(c.exitCode, c.stderr).toBe(0)
    expect(c.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/)
    const byCmd = await ctr(['run', '--rm', '--network', 'none', 'local/committed:1'], {env: t.env})
    expect(byCmd.exitCode, byCmd.stderr).toBe(0)
    expect(byCmd.stdout).toBe('hello\n')
    const check = await ctr(['run', '--rm', '--network', 'none', 'local/committed:1', 'sh', '-c', `${CHECK}; echo $STAGE`], {env: t.env})
    expect(check.exitCode, check.stderr).toBe(0)
    expect(check.stdout).toBe('hello\n1000:1000\nabsent\nx\n1000\ncommitted\n')
    const insp = await ctr(['image', 'inspect', 'local/committed:1'], {env: t.env})
    const doc = JSON.parse(insp.stdout)[0]
    expect(doc.Id).toBe(c.stdout.trim())
    expect(doc.RootFS.Layers.slice(0, ml.diffIds.length)).toEqual(ml.diffIds)
    expect(doc.RootFS.Layers).toHaveLength(ml.diffIds.length + 1)
  }, 120_000)

  it('the new layer is an OCI layer with whiteouts; the committed image pushes and pulls back with the same digest', async () => {
    const dest = `${env.plainRegistry}/committed/c1-${uniq}:1`
    const p = await ctr(['push', 'local/committed:1', dest], {env: t.env})
    expect(p.exitCode, p.stderr).toBe(0)
    const digest = /digest: (sha256:[a-f0-9]{64})/.exec(p.stdout)![1]!
    const raw = execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${dest}`])
    expect(`sha256:${createHash('sha256').update(raw).digest('hex')}`).toBe(digest)
    const manifest = JSON.parse(raw.toString())
    const top = manifest.layers.at(-1)
    expect(top.mediaType).toBe('application/vnd.oci.image.layer.v1.tar+gzip')
    const layerFile = join(dir, 'top.tar.gz')
    execFileSync('skopeo', ['copy', '--src-tls-verify=false', `docker://${dest}`, `dir:${join(dir, 'pushed')}`], {stdio: 'ignore'})
    writeFileSync(layerFile, readFileSync(join(dir, 'pushed', top.digest.slice(7))))
    const listing = execFileSync('tar', ['-tzf', layerFile]).toString().split('\n').filter(Boolean)
    expect(listing).toContain('data/new.txt')
    expect(listing).toContain(`${KEEP.slice(1).replace(/[^/]+$/, '')}.wh.${KEEP.split('/').at(-1)}`)
    expect(listing.some((l) => l === 'data/dir/.wh..wh..opq' || l === 'data/.wh.dir')).toBe(true)
    expect(listing).not.toContain('bin/busybox')

    const fresh = tempRoot()
    try {
      const back = await ctr(['pull', dest], {env: fresh.env})
      expect(back.exitCode, back.stderr).toBe(0)
      expect(back.stderr).toContain(digest)
      const run = await ctr(['run', '--rm', '--network', 'none', dest, 'sh', '-c', CHECK], {env: fresh.env})
      expect(run.stdout).toBe('hello\n1000:1000\nabsent\nx\n1000\n')
    } finally {
      await fresh.cleanup()
    }
  }, 180_000)

  it('refuses an unknown container, a missing name and an unsupported instruction', async () => {
    expect((await ctr(['commit', 'nope', 'local/x:1'], {env: t.env})).exitCode).not.toBe(0)
    const noName = await ctr(['commit', 'c1'], {env: t.env})
    expect(noName.exitCode).not.toBe(0)
    expect(noName.stderr).toMatch(/^ctr-ts: commit: give the new image a name/)
    const bad = await ctr(['commit', '-c', 'RUN rm -rf /', 'c1', 'local/x:1'], {env: t.env})
    expect(bad.exitCode).not.toBe(0)
    expect(bad.stderr).toMatch(/unsupported instruction/)
  })
})

describe('export / import', () => {
  it('export writes the merged root filesystem; import makes it an image again (file and gzip stdin)', async () => {
    const file = join(dir, 'c1.tar')
    const e = await ctr(['export', '-o', file, 'c1'], {env: t.env})
    expect(e.exitCode, e.stderr).toBe(0)
    const listing = execFileSync('tar', ['-tf', file]).toString().split('\n').filter(Boolean)
    expect(listing).toContain('bin/busybox')
    expect(listing).toContain('data/new.txt')
    expect(listing).toContain('data/dir/x')
    expect(listing).not.toContain(KEEP.slice(1))
    expect(listing.filter((l) => l.includes('.wh.'))).toEqual([])
    expect(listing.filter((l) => l.startsWith('data/dir/'))).toEqual(['data/dir/', 'data/dir/x'])

    const i = await ctr(['import', '-c', 'CMD ["cat", "/data/new.txt"]', '-m', 'imported', file, 'local/imported:1'], {env: t.env})
    expect(i.exitCode, i.stderr).toBe(0)
    expect(i.stdout).toMatch(/^sha256:[a-f0-9]{64}\n$/)
    const run = await ctr(['run', '--rm', '--network', 'none', 'local/imported:1'], {env: t.env})
    expect(run.stdout).toBe('hello\n')
    const check = await ctr(['run', '--rm', '--network', 'none', 'local/imported:1', 'sh', '-c', CHECK], {env: t.env})
    expect(check.stdout).toBe('hello\n1000:1000\nabsent\nx\n1000\n')

    const gz = join(dir, 'c1.tar.gz')
    writeFileSync(gz, gzipSync(readFileSync(file)))
    const viaStdin = execFileSync('sh', ['-c', `node ${CLI} import - local/imported:gz < ${gz}`], {env: {...process.env, ...t.env}}).toString()
    expect(viaStdin).toMatch(/^sha256:/)
    const r2 = await ctr(['run', '--rm', '--network', 'none', 'local/imported:gz', 'cat', '/data/dir/x'], {env: t.env})
    expect(r2.stdout).toBe('x\n')
  }, 180_000)

  it('export to stdout is the same tar', async () => {
    const out = execFileSync('sh', ['-c', `node ${CLI} export c1 | tar -tf - | sort`], {env: {...process.env, ...t.env}}).toString()
    const file = execFileSync('sh', ['-c', `tar -tf ${join(dir, 'c1.tar')} | sort`]).toString()
    expect(out).toBe(file)
  }, 60_000)
})
