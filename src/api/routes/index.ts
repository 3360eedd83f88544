/**
 * Every route module of the API service. A module exports `register(router, deps)`; add a new
 * one to this list (one line) and it is served. Modules own disjoint paths.
 */
import type {Router} from '../router.js'
import type {ApiDeps} from './deps.js'
import {AttachRegistry} from './attach-registry.js'
import * as containers from './containers.js'
import * as containersIo from './containers-io.js'
import * as exec from './exec.js'
import * as system from './system.js'
import * as images from './images.js'
import * as build from './build.js'
import * as networks from './networks.js'
import * as volumes from './volumes.js'
import * as objectsSystem from './objects-system.js'

export interface RouteModule {
  register(router: Router, deps: ApiDeps): void
}

/** Containers' attach and start share the sessions waiting for a start. */
const attaches = new AttachRegistry()

export const ROUTE_MODULES: RouteModule[] = [
  system,
  {register: (r, d) => containers.register(r, d, attaches)},
  {register: (r, d) => containersIo.register(r, d, attaches)},
  exec,
  // api-objects: images, networks, volumes, build
  images,
  build,
  networks,
  volumes,
  objectsSystem,
]

export function registerAll(router: Router, deps: ApiDeps): void {
  for (const m of ROUTE_MODULES) m.register(router, deps)
}
