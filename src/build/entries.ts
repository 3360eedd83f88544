import {createHash} from 'node:crypto'
import {createReadStream} from 'node:fs'
import type {Readable, Writable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {pack as tarPack, type Header} from 'tar-stream'

/** One file of a COPY/ADD layer, its name relative to the root (no leading `/`). */
export interface LayerEntry {
  name: string
  type: 'file' | 'directory' | 'symlink' | 'link'
  mode: number
  uid: number
  gid: number
  mtime: Date
  /** Regular files: the bytes, or a host file to read them from. */
  data?: Buffer
  hostPath?: string
  size?: number
  linkname?: string
}

/** Parent directories first, later entries for the same name win. */
export function orderEntries(entries: LayerEntry[]): LayerEntry[] {
  const byName = new Map<string, LayerEntry>()
  for (const e of entries) byName.set(e.name, e)
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
}

/** The layer tar of `entries` (ordered by orderEntries). */
export function entriesTar(entries: LayerEntry[]): Readable {
  const pack = tarPack()
  void (async () => {
    try {
      for (const e of entries) {
        const h = {name: e.type === 'directory' ? `${e.name}/` : e.name, type: e.type, mode: e.mode & 0o7777, uid: e.uid, gid: e.gid, mtime: e.mtime}
        if (e.type === 'file') {
          if (e.data) {
            await new Promise<void>((resolve, reject) => pack.entry({...h, size: e.data!.length} as Header, e.data!, (err) => (err ? reject(err) : resolve())))
          } else {
            const w = pack.entry({...h, size: e.size ?? 0} as Header)
            await pipeline(createReadStream(e.hostPath!), w as unknown as Writable)
          }
        } else {
          await new Promise<void>((resolve, reject) => pack.entry({...h, ...(e.linkname !== undefined ? {linkname: e.linkname} : {}), size: 0} as Header, (err) => (err ? reject(err) : resolve())))
        }
      }
      pack.finalize()
    } catch (err) {
      pack.destroy(err as Error)
    }
  })()
  return pack as unknown as Readable
}

/** What the cache key of a COPY/ADD depends on: names, types, modes, owners, links and contents (not mtimes). */
export async function entriesHash(entries: LayerEntry[]): Promise<string> {
  const h = createHash('sha256')
  for (const e of entries) {
    h.update(`${e.name}\0${e.type}\0${e.mode}\0${e.uid}:${e.gid}\0${e.linkname ?? ''}\0`)
    if (e.type === 'file') {
      const f = createHash('sha256')
      if (e.data) f.update(e.data)
      else for await (const chunk of createReadStream(e.hostPath!)) f.update(chunk as Buffer)
      h.update(f.digest('hex'))
    }
    h.update('\n')
  }
  return `sha256:${h.digest('hex')}`
}
