/** The pure parts of the API's image, build, network and volume routes. */
import {existsSync, readFileSync, readlinkSync, rmSync} from 'node:fs'
import {Readable} from 'node:stream'
import {join} from 'node:path'
import {gzipSync} from 'node:zlib'
import {pack} from 'tar-stream'
import {describe, expect, it} from 'vitest'
import {entryPath, unpackContext} from '../../src/api/build-context.js'
import {ApiError} from '../../src/api/http.js'
import {PullMessages, pushMessages} from '../../src/api/image-progress.js'
import {jsonMapParam, matchTable, type TableRoute} from '../../src/api/objects-http.js'
import {contextWithCredentials, credentialsOf, decodeRegistryAuth} from '../../src/api/registry-auth.js'
import {imageSummaries, pullReference, responseItems} from '../../src/api/routes/images.js'
import {findBuiltinNetwork} from '../../src/network/builtin.js'
import type {Context} from '../../src/context.js'

const row = (over: Record<string, string | number>) => ({Repository: 'busybox', Tag: 'latest', Id: 'sha256:aa', Digest: 'sha256:d1', Created: '2024-01-02T03:04:05Z', Size: 10, Ref: 'docker.io/library/busybox:latest', Platform: 'linux/amd64', ...over})

describe('image summaries', () => {
  it('groups references by id, docker tags and digests, integer Created', () => {
    const out = imageSummaries([row({}), row({Repository: '127.0.0.1:5000/x/y', Tag: '1'}), row({Id: 'sha256:bb', Tag: '<none>', Digest: 'sha256:d2'})], (id) => (id === 'sha256:aa' ? {a: 'b'} : undefined))
    expect(out).toHaveLength(2)
    expect(out[0]).toMatchObject({Id: 'sha256:aa', RepoTags: ['busybox:latest', '127.0.0.1:5000/x/y:1'], RepoDigests: ['busybox@sha256:d1', '127.0.0.1:5000/x/y@sha256:d1'], Created: 1704164645, Labels: {a: 'b'}, Size: 10})
    expect(out[1]).toMatchObject({RepoTags: ['<none>:<none>'], RepoDigests: ['busybox@sha256:d2'], Labels: {}})
  })

  it('fromImage + tag, a digest as the tag', () => {
    expect(pullReference('busybox', 'latest')).toBe('busybox:latest')
    expect(pullReference('127.0.0.1:5000/a/b', null)).toBe('127.0.0.1:5000/a/b')
    expect(pullReference('busybox', `sha256:${'a'.repeat(64)}`)).toBe(`busybox@sha256:${'a'.repeat(64)}`)
  })

  it('rmi lines as ImageDeleteResponseItems', () => {
    expect(responseItems(['Untagged: busybox:latest', 'Deleted: sha256:aa', 'other'])).toEqual([{Untagged: 'busybox:latest'}, {Deleted: 'sha256:aa'}])
  })
})

describe('progress messages', () => {
  it('pull: docker statuses, a progress bar, the final status', () => {
    const p = new PullMessages('127.0.0.1:5000/fixtures/busybox:latest')
    expect(p.messages({type: 'resolving', ref: 'x'})).toEqual([{status: 'Pulling from fixtures/busybox', id: 'latest'}])
    const d = `sha256:${'c'.repeat(64)}`
    expect(p.messages({type: 'layer', phase: 'waiting', digest: d, size: 5})).toEqual([{status: 'Pulling fs layer', progressDetail: {}, id: 'cccccccccccc'}])
    expect(p.final().status).toBe('Status: Image is up to date for 127.0.0.1:5000/fixtures/busybox:latest')
    const prog = p.messages({type: 'progress', digest: d, current: 50, total: 100})[0]!
    expect(prog).toMatchObject({status: 'Downloading', progressDetail: {current: 50, total: 100}, id: 'cccccccccccc'})
    expect(prog.progress).toMatch(/^\[=+>\s+\] 0\.00MB\/0\.00MB$/)
    expect(p.messages({type: 'layer', phase: 'unpacked', digest: d, size: 5})).toEqual([{status: 'Pull complete', progressDetail: {}, id: 'cccccccccccc'}])
    expect(p.final().status).toBe('Status: Downloaded newer image for 127.0.0.1:5000/fixtures/busybox:latest')
  })

  it('push: the repository line, per-layer statuses, the digest line and aux', () => {
    const d = `sha256:${'e'.repeat(64)}`
    expect(pushMessages({type: 'repository', name: 'r/x'})).toEqual([{status: 'The push refers to repository [r/x]'}])
    expect(pushMessages({type: 'blob', phase: 'exists', digest: d, size: 1})[0]).toMatchObject({status: 'Layer already exists', id: 'eeeeeeeeeeee'})
    const done = pushMessages({type: 'pushed', ref: 'r/x:1', tag: '1', digest: d, size: 527})
    expect(done[0]!.status).toBe(`1: digest: ${d} size: 527`)
    expect(done[1]!.aux).toEqual({Tag: '1', Digest: d, Size: 527})
  })
})

describe('registry auth header', () => {
  const enc = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url')
  it('decodes username/password, auth, and treats {} as anonymous', () => {
    expect(decodeRegistryAuth(enc({username: 'u', password: 'p', serveraddress: 'r'}))).toEqual({username: 'u', password: 'p'})
    expect(decodeRegistryAuth(enc({}))).toBeUndefined()
    expect(decodeRegistryAuth('%%%')).toBeUndefined()
    expect(decodeRegistryAuth(undefined)).toBeUndefined()
    expect(credentialsOf({auth: Buffer.from('a:b:c').toString('base64')})).toEqual({username: 'a', password: 'b:c'})
  })
  it('puts the credentials in the configuration of the reference\'s registry only', () => {
    const ctx = {config: {registries: {'127.0.0.1:5000': {insecure: true}}}} as unknown as Context
    const out = contextWithCredentials(ctx, '127.0.0.1:5000/a/b:1', {username: 'u', password: 'p'})
    expect(out.config.registries['127.0.0.1:5000']).toEqual({insecure: true, username: 'u', password: 'p'})
    expect(ctx.config.registries['127.0.0.1:5000']).toEqual({insecure: true})
    expect(contextWithCredentials(ctx, 'busybox', undefined)).toBe(ctx)
  })
})

describe('route tables and parameters', () => {
  const routes: TableRoute[] = [
    {method: 'GET', pattern: /^\/images\/(.+)\/json$/, handle: async () => {}},
    {method: 'DELETE', pattern: /^\/images\/(.+)$/, handle: async () => {}},
  ]
  it('matches names with slashes and colons, HEAD as GET', () => {
    expect(matchTable(routes, 'GET', '/images/127.0.0.1:5000/a/b:1/json')?.params).toEqual(['127.0.0.1:5000/a/b:1'])
    expect(matchTable(routes, 'HEAD', '/images/x/json')?.params).toEqual(['x'])
    expect(matchTable(routes, 'DELETE', '/images/a%2Fb')?.params).toEqual(['a/b'])
    expect(matchTable(routes, 'POST', '/images/x/json')).toBeUndefined()
  })
  it('JSON map parameters (buildargs, labels); bad JSON is a 400', () => {
    expect(jsonMapParam(new URLSearchParams({buildargs: '{"A":"1","B":null}'}), 'buildargs')).toEqual({A: '1'})
    expect(() => jsonMapParam(new URLSearchParams({labels: '{'}), 'labels')).toThrow(ApiError)
  })
  it('built-in network ids are stable 64 hex digits', () => {
    const id = (name: string) => findBuiltinNetwork(name)!.id
    expect(id('bridge')).toMatch(/^[0-9a-f]{64}$/)
    expect(findBuiltinNetwork(id('bridge').slice(0, 12))!.name).toBe('bridge')
    expect(id('host')).not.toBe(id('bridge'))
  })
})

async function tarOf(entries: Array<{name: string; type?: 'file' | 'directory' | 'symlink'; linkname?: string; content?: string}>, gzip = false): Promise<Readable> {
  const p = pack()
  for (const e of entries) {
    if ((e.type ?? 'file') === 'file') p.entry({name: e.name, mode: 0o644}, e.content ?? '')
    else p.entry({name: e.name, type: e.type!, linkname: e.linkname, mode: 0o755})
  }
  p.finalize()
  const chunks: Buffer[] = []
  for await (const c of p as AsyncIterable<Buffer>) chunks.push(c)
  const buf = Buffer.concat(chunks)
  return Readable.from([gzip ? gzipSync(buf) : buf])
}

describe('build context', () => {
  it('entry names: normalized, never outside', () => {
    expect(entryPath('./a/b/')).toBe('a/b')
    expect(entryPath('.')).toBeUndefined()
    expect(() => entryPath('../x')).toThrow(/climbs out/)
    expect(() => entryPath('a/../../x')).toThrow(/climbs out/)
    expect(() => entryPath('/etc/passwd')).toThrow(/absolute/)
  })

  it('unpacks plain and gzip tars: files, directories, symlinks', async () => {
    for (const gz of [false, true]) {
      const dir = await unpackContext(await tarOf([{name: 'Dockerfile', content: 'FROM x\n'}, {name: 'src', type: 'directory'}, {name: 'src/a.txt', content: 'a'}, {name: 'link', type: 'symlink', linkname: 'src/a.txt'}], gz))
      try {
        expect(readFileSync(join(dir, 'Dockerfile'), 'utf8')).toBe('FROM x\n')
        expect(readFileSync(join(dir, 'src/a.txt'), 'utf8')).toBe('a')
        expect(readlinkSync(join(dir, 'link'))).toBe('src/a.txt')
      } finally {
        rmSync(dir, {recursive: true, force: true})
      }
    }
  })

  it('accepts a tar without its end (docker\'s client rewriting it for a Dockerfile outside the context)', async () => {
    const full = await tarOf([{name: 'hello.txt', content: 'hi\n'}, {name: '.dockerfile.abc', content: 'FROM x\n'}])
    const chunks: Buffer[] = []
    for await (const c of full as AsyncIterable<Buffer>) chunks.push(c)
    // header + data of the last file, without its padding and without the two zero blocks
    const cut = Buffer.concat(chunks).subarray(0, 512 + 512 + 512 + 'FROM x\n'.length)
    const dir = await unpackContext(Readable.from([cut]))
    try {
      expect(readFileSync(join(dir, '.dockerfile.abc'), 'utf8')).toBe('FROM x\n')
      expect(readFileSync(join(dir, 'hello.txt'), 'utf8')).toBe('hi\n')
    } finally {
      rmSync(dir, {recursive: true, force: true})
    }
  })

  it('a body that fails mid-way fails the unpack and leaves nothing', async () => {
    const body = new Readable({read() {}})
    body.push(Buffer.alloc(700, 0x41))
    setTimeout(() => body.destroy(new Error('aborted')), 20)
    await expect(unpackContext(body)).rejects.toThrow()
  })

  it('refuses an entry written through a symlink of the archive, and leaves nothing behind', async () => {
    const err = await unpackContext(await tarOf([{name: 'out', type: 'symlink', linkname: '/tmp'}, {name: 'out/pwned', content: 'x'}])).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(ApiError)
    expect((err as ApiError).status).toBe(400)
    expect(existsSync('/tmp/pwned')).toBe(false)
  })
})
