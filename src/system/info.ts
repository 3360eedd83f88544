import {lstat, readdir} from 'node:fs/promises'
import {join} from 'node:path'
import type {Context} from '../context.js'
import {listContainers} from '../container/record.js'
import {containerStatus} from '../container/status.js'
import {which} from '../runtime/binaries.js'
import {listImages} from '../store/images.js'
import {listLayers} from '../store/layers.js'
import {listVolumes} from '../store/volumes.js'

export interface SystemInfo {
  versions: Record<string, string>
  runtime: {name: string; path?: string}
  /** driver: the rootfs driver of new containers (rootfs.driver). */
  store: {root: string; runRoot: string; sizeBytes: number; driver: string}
  images: number
  containers: {total: number; running: number; stopped: number}
  layers: number
  volumes: number
  configSources: string[]
}

/** First line of `BIN --version` (or "not found"). */
export async function toolVersion(name: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const path = which(name, env)
  if (!path) return 'not found'
  // execa loads only here: diskUsage (ps -s, inspect --size) is on run/ps/stop/rm's import path
  const {execa} = await import('execa')
  const r = await execa(path, ['--version'], {reject: false, timeout: 5_000})
  const lines = `${String(r.stdout ?? '')}\n${String(r.stderr ?? '')}`.split('\n').map((l) => l.trim()).filter(Boolean)
  // fuse-overlayfs prints libfuse's and fusermount's versions too: prefer the line naming the tool
  const base = name.split('/').at(-1)!
  return lines.find((l) => l.includes(base)) ?? lines[0] ?? `unknown (${path})`
}

/** Bytes used under `dir` (apparent sizes, hard links counted once); unreadable parts are skipped. */
export async function diskUsage(dir: string): Promise<number> {
  const seen = new Set<string>()
  let total = 0
  const walk = async (path: string): Promise<void> => {
    let st
    try {
      st = await lstat(path)
    } catch {
      return
    }
    const key = `${st.dev}:${st.ino}`
    if (seen.has(key)) return
    seen.add(key)
    total += st.isDirectory() ? 0 : st.size
    if (!st.isDirectory()) return
    let names: string[]
    try {
      names = await readdir(path)
    } catch {
      return
    }
    for (const n of names) await walk(join(path, n))
  }
  await walk(dir)
  return total
}

export async function systemInfo(ctx: Context, version: string): Promise<SystemInfo> {
  const runtimeName = ctx.config.runtime.name
  const [runtimeV, fuseV, slirpV] = await Promise.all([
    ctx.config.runtime.path ? toolVersion(ctx.config.runtime.path) : toolVersion(runtimeName),
    toolVersion('fuse-overlayfs'),
    toolVersion('slirp4netns'),
  ])
  const containers = await listContainers(ctx)
  const running = containers.filter((c) => containerStatus(ctx, c).running).length
  return {
    versions: {'ctr-ts': version, node: process.version, [runtimeName]: runtimeV, 'fuse-overlayfs': fuseV, slirp4netns: slirpV},
    runtime: {name: runtimeName, path: ctx.config.runtime.path ?? which(runtimeName)},
    store: {root: ctx.store.root, runRoot: ctx.run.root, sizeBytes: await diskUsage(ctx.store.root), driver: ctx.config.rootfs.driver},
    images: (await listImages(ctx.store)).length,
    containers: {total: containers.length, running, stopped: containers.length - running},
    layers: (await listLayers(ctx.store)).length,
    volumes: (await listVolumes(ctx.store)).length,
    configSources: ctx.configSources,
  }
}
