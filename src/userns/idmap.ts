import {readFileSync} from 'node:fs'
import {userInfo} from 'node:os'

export interface IdMapping {
  containerID: number
  hostID: number
  size: number
}

/**
 * The mapping of the user namespace ctr-ts unpacks and runs in: namespace id 0 is the user,
 * ids 1..N are the user's /etc/subuid (and /etc/subgid) range. `full` is false when the user has
 * no range and only their own id is mapped (ownership from images is then lost).
 */
export interface UserNsMapping {
  uids: IdMapping[]
  gids: IdMapping[]
  full: boolean
}

export interface SubIdRange {
  start: number
  count: number
}

/** Parses /etc/subuid-style text: the ranges for a user given by name or numeric id. */
export function parseSubIdFile(text: string, user: {name: string; id: number}): SubIdRange[] {
  const ranges: SubIdRange[] = []
  for (const raw of text.split('\n')) {
    const line = raw.trim()
    if (!line || line.startsWith('#')) continue
    const [who, start, count] = line.split(':')
    if (who !== user.name && who !== String(user.id)) continue
    const s = Number(start)
    const c = Number(count)
    if (Number.isInteger(s) && Number.isInteger(c) && s >= 0 && c > 0) ranges.push({start: s, count: c})
  }
  return ranges
}

/** Builds the namespace mapping from the user's own id and subordinate ranges. */
export function buildMapping(ownId: number, ranges: SubIdRange[]): IdMapping[] {
  const maps: IdMapping[] = [{containerID: 0, hostID: ownId, size: 1}]
  let next = 1
  for (const r of ranges) {
    maps.push({containerID: next, hostID: r.start, size: r.count})
    next += r.count
  }
  return maps
}

function readOrEmpty(path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return ''
  }
}

export interface CurrentUser {
  /** Login name; the numeric uid when there is no passwd entry (ranges then match by id only). */
  name: string
  uid: number
  gid: number
}

/** The user ctr-ts runs as. */
export function currentUser(): CurrentUser {
  const uid = process.getuid?.() ?? 0
  const gid = process.getgid?.() ?? 0
  let name = String(uid)
  try {
    name = userInfo().username
  } catch {
    // no passwd entry: match by numeric id only
  }
  return {name, uid, gid}
}

/** The namespace mapping for `user` with these subordinate ranges (own ids only unless both uid and gid ranges exist). */
export function userNsMapping(user: CurrentUser, subuid: SubIdRange[], subgid: SubIdRange[]): UserNsMapping {
  const full = subuid.length > 0 && subgid.length > 0
  return {
    uids: buildMapping(user.uid, full ? subuid : []),
    gids: buildMapping(user.gid, full ? subgid : []),
    full,
  }
}

let cached: UserNsMapping | undefined

export function currentMapping(): UserNsMapping {
  if (cached) return cached
  const user = currentUser()
  const who = {name: user.name, id: user.uid}
  cached = userNsMapping(user, parseSubIdFile(readOrEmpty('/etc/subuid'), who), parseSubIdFile(readOrEmpty('/etc/subgid'), who))
  return cached
}

/** Host uid of a namespace uid under a mapping (undefined when unmapped). */
export function hostIdOf(maps: IdMapping[], id: number): number | undefined {
  for (const m of maps) if (id >= m.containerID && id < m.containerID + m.size) return m.hostID + id - m.containerID
  return undefined
}
