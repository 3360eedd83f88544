/**
 * `POST /build` over the engine's build (what `ctr-ts build` runs): the tar context of the body
 * unpacked into a temporary directory, docker's query parameters, and docker's classic-builder
 * stream: `{"stream": "..."}` lines, `{"aux":{"ID":"sha256:..."}}`, then `Successfully built`.
 */
import {rm} from 'node:fs/promises'
import {join} from 'node:path'
import {Writable} from 'node:stream'
import {buildImage} from '../../engine/images.js'
import {entryPath, unpackContext} from '../build-context.js'
import {type ApiCall, ApiError, queryBool} from '../http.js'
import {jsonLines, jsonMapParam} from '../objects-http.js'
import {parseReference} from '../../reference/parse.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'

const NETWORK_MODES = new Set(['default', 'none', 'host', 'slirp4netns', 'bridge'])

async function build(call: ApiCall, deps: ApiDeps): Promise<void> {
  const q = call.query
  const remote = q.get('remote')
  if (remote) throw new ApiError(501, 'ctr-ts builds only a tar context sent in the body (remote is not supported)')
  const tags = q.getAll('t').filter((t) => t !== '')
  for (const t of tags) {
    try {
      parseReference(t)
    } catch (err) {
      throw new ApiError(400, (err as Error).message)
    }
  }
  const dockerfile = q.get('dockerfile') || 'Dockerfile'
  const dockerfileRel = entryPath(dockerfile)
  if (!dockerfileRel) throw new ApiError(400, `invalid dockerfile ${JSON.stringify(dockerfile)}`)
  const network = q.get('networkmode') || 'default'
  if (!NETWORK_MODES.has(network)) throw new ApiError(400, `networkmode ${network}: ctr-ts builds with none, host or default`)
  const buildArgs = jsonMapParam(q, 'buildargs')
  const labels = jsonMapParam(q, 'labels')
  const quiet = queryBool(q, 'q')
  const dir = await unpackContext(call.req)
  const out = jsonLines(call.res)
  const progress = new Writable({
    write(chunk: Buffer, _enc, cb) {
      out.write({stream: chunk.toString('utf8')})
      cb()
    },
  })
  try {
    const result = await buildImage(deps.ctx, {
      contextDir: dir,
      // docker's client puts a Dockerfile from outside the context into the tar too
      file: join(dir, dockerfileRel),
      tags,
      buildArgs,
      ...(q.get('target') ? {target: q.get('target')!} : {}),
      noCache: queryBool(q, 'nocache'),
      pull: queryBool(q, 'pull'),
      labels,
      ...(network !== 'default' && network !== 'bridge' ? {network} : {}),
      ...(quiet ? {} : {progress}),
      ...(q.get('platform') ? {platform: q.get('platform')!} : {}),
    })
    out.write({aux: {ID: result.id}})
    if (quiet) out.write({stream: `${result.id}\n`})
    else {
      out.write({stream: `Successfully built ${result.id.replace(/^sha256:/, '').slice(0, 12)}\n`})
      for (const t of tags) out.write({stream: `Successfully tagged ${familiar(t)}\n`})
    }
    out.end()
  } catch (err) {
    out.fail(err)
  } finally {
    await rm(dir, {recursive: true, force: true}).catch(() => undefined)
  }
}

function familiar(t: string): string {
  const r = parseReference(t)
  return r.familiar()
}

export function register(router: Router, deps: ApiDeps): void {
  router.post('/build', (call) => build(call, deps))
  router.post('/build/prune', () => {
    throw new ApiError(501, 'ctr-ts does not implement POST /build/prune (the build cache is pruned by `ctr-ts system prune`)')
  })
}
