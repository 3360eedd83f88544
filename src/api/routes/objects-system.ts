/**
 * `GET /system/df` (images, containers, volumes and what they hold, as `docker system df`
 * reads it) and `POST /auth` (docker login: the credentials checked against the registry, as
 * `ctr-ts login` checks them; the client stores them, the service does not).
 */
import {normalizeRegistry} from '../../auth/docker-config.js'
import * as containers from '../../engine/containers.js'
import * as images from '../../engine/images.js'
import * as volumes from '../../engine/volumes.js'
import {UnauthorizedError} from '../../errors.js'
import {type ApiCall, ApiError, readJson, sendJson} from '../http.js'
import {unixSeconds} from '../objects-http.js'
import {credentialsOf, type RegistryAuth} from '../registry-auth.js'
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'
import {imageSummaries} from './images.js'

async function df(call: ApiCall, deps: ApiDeps): Promise<void> {
  const ctx = deps.ctx
  const rows = await images.listImages(ctx)
  const all = await containers.list(ctx, {all: true})
  const usedBy = new Map<string, number>()
  for (const c of all) usedBy.set(c.record.image, (usedBy.get(c.record.image) ?? 0) + 1)
  const imageDocs = imageSummaries(rows, () => undefined).map((s) => ({...s, Containers: usedBy.get(s.Id) ?? 0}))
  const containerDocs = []
  for (const c of all) {
    containerDocs.push({
      Id: c.record.id,
      Names: [`/${c.record.name}`],
      Image: c.record.imageRef,
      ImageID: c.record.image,
      Command: c.record.args.join(' '),
      Created: unixSeconds(c.record.created),
      State: c.status.status,
      Status: c.status.status,
      SizeRw: await containers.writableLayerSize(ctx, c.record).catch(() => 0),
      SizeRootFs: 0,
      Labels: c.record.labels,
      Mounts: [],
    })
  }
  const volumeDocs = []
  const {diskUsage} = await import('../../system/info.js')
  for (const v of await volumes.list(ctx)) {
    const doc = await volumes.inspect(ctx, v.volume.name)
    volumeDocs.push({...doc, UsageData: {Size: await diskUsage(v.mountpoint).catch(() => -1), RefCount: v.users.length}})
  }
  sendJson(call.res, 200, {
    LayersSize: imageDocs.reduce((n, s) => n + s.Size, 0),
    Images: imageDocs,
    Containers: containerDocs,
    Volumes: volumeDocs,
    BuildCache: [],
  })
}

async function auth(call: ApiCall, deps: ApiDeps): Promise<void> {
  const body = (await readJson(call)) as RegistryAuth
  const creds = credentialsOf(body)
  if (!creds) throw new ApiError(400, 'username and password are required')
  const registry = normalizeRegistry(typeof body.serveraddress === 'string' ? body.serveraddress : undefined)
  const {RegistryClient} = await import('../../registry/client.js')
  const client = new RegistryClient({config: deps.ctx.config, registry, credentials: async () => creds})
  try {
    await client.ping()
  } catch (err) {
    if (err instanceof UnauthorizedError) throw new ApiError(401, `login attempt to ${registry} failed: unauthorized: incorrect username or password`)
    throw err
  } finally {
    await client.close()
  }
  sendJson(call.res, 200, {Status: 'Login Succeeded', IdentityToken: ''})
}

export function register(router: Router, deps: ApiDeps): void {
  router.get('/system/df', (call) => df(call, deps))
  router.post('/auth', (call) => auth(call, deps))
}
