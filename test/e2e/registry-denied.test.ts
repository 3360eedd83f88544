/**
 * A registry that answers 403 (access denied) to everything: the CLI prints one line naming
 * what was refused and exits 1. It used to print `ctr-ts: [object Promise]` (the client threw
 * the Promise of its async error builder).
 */
import {createServer, type Server} from 'node:http'
import type {AddressInfo} from 'node:net'
import {afterAll, beforeAll, describe, expect, it} from 'vitest'
import {ctr, tempRoot, type TempRoot} from '../harness/cli.js'

let server: Server
let host = ''
const roots: TempRoot[] = []
const DENIED = JSON.stringify({errors: [{code: 'DENIED', message: 'requested access to the resource is denied'}]})

beforeAll(async () => {
  server = createServer((_req, res) => void res.writeHead(403, {'content-type': 'application/json'}).end(DENIED))
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  host = `127.0.0.1:${(server.address() as AddressInfo).port}`
})
afterAll(async () => {
  for (const t of roots) await t.cleanup()
  await new Promise((r) => server.close(r))
})

function root(): TempRoot {
  const t = tempRoot()
  roots.push(t)
  return t
}

describe('a registry answering 403', () => {
  it('pull: one "unauthorized" line with the registry\'s words, exit 1, nothing stored', async () => {
    const t = root()
    const r = await ctr(['pull', '-q', `${host}/private/thing:latest`], {env: t.env})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe(
      `ctr-ts: unauthorized: ${host}/private/thing:latest: access denied (no credentials for ${host}) (DENIED: requested access to the resource is denied)\n`,
    )
    expect((await ctr(['images', '-q'], {env: t.env})).stdout.trim()).toBe('')
  })

  it('login: refused, nothing stored', async () => {
    const t = root()
    const r = await ctr(['login', '-u', 'x', '--password-stdin', host], {env: t.env, input: 'y\n'})
    expect(r.exitCode).toBe(1)
    expect(r.stderr).toBe('ctr-ts: login failed: unauthorized\n')
  })
})
