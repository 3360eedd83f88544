import {accessSync, constants, readFileSync} from 'node:fs'
import {join} from 'node:path'

/**
 * Resource limits (--memory, --cpus, --pids-limit) for a rootless container need cgroup v2 with
 * the controllers delegated to the user: on cgroup v1, or without delegation, runc inside a user
 * namespace cannot apply them. Checked before anything is created.
 */

export type ResourceSupport = {ok: true; cgroupPath: string} | {ok: false; reason: string}

export type Controller = 'memory' | 'cpu' | 'pids'

/** What the check looks at; gathered by gatherCgroupFacts(), given directly in tests. */
export interface CgroupFacts {
  /** File system type mounted at /sys/fs/cgroup ('cgroup2', 'tmpfs' for v1/hybrid, ...). */
  fsType: string | undefined
  /** The process's cgroup v2 path (the `0::` line of /proc/self/cgroup). */
  ownCgroup: string | undefined
  /** Whether the own cgroup directory is writable by the user. */
  writable: boolean
  /** Contents of the own cgroup's cgroup.controllers. */
  controllers: string[]
  /** Contents of the own cgroup's cgroup.subtree_control. */
  subtreeControl: string[]
}

const HINT =
  'boot with systemd.unified_cgroup_hierarchy=1 and enable delegation: see https://rootlesscontaine.rs/getting-started/common/cgroup2/'

/** The decision, from facts: pure. */
export function evaluateResourceSupport(facts: CgroupFacts, wanted: Controller[] = ['memory', 'cpu', 'pids']): ResourceSupport {
  if (facts.fsType !== 'cgroup2') {
    const what = facts.fsType === 'tmpfs' ? 'cgroup v1/hybrid' : `no cgroup v2 at /sys/fs/cgroup (${facts.fsType ?? 'nothing'} mounted)`
    return {ok: false, reason: `resource limits need cgroup v2 with delegation (this machine runs ${what}); ${HINT}`}
  }
  if (!facts.ownCgroup) return {ok: false, reason: `resource limits need cgroup v2 with delegation (cannot find this process's cgroup); ${HINT}`}
  if (!facts.writable) {
    return {
      ok: false,
      reason: `resource limits need cgroup v2 delegation: the cgroup ${facts.ownCgroup} is not writable by this user; ${HINT}`,
    }
  }
  const missing = wanted.filter((c) => !facts.controllers.includes(c) && !facts.subtreeControl.includes(c))
  if (missing.length > 0) {
    return {
      ok: false,
      reason: `resource limits need the cgroup controllers ${missing.join(', ')} delegated to this user (${facts.ownCgroup} has: ${facts.controllers.join(' ') || 'none'}); ${HINT}`,
    }
  }
  return {ok: true, cgroupPath: facts.ownCgroup}
}

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch {
    return fallback
  }
}

/** Reads /proc/self/mountinfo, /proc/self/cgroup and the own cgroup's files. */
export function gatherCgroupFacts(): CgroupFacts {
  const mountinfo = readOr('/proc/self/mountinfo', '')
  let fsType: string | undefined
  for (const line of mountinfo.split('\n')) {
    const [pre, post] = line.split(' - ')
    if (!pre || !post) continue
    if (pre.split(' ')[4] === '/sys/fs/cgroup') fsType = post.split(' ')[0]
  }
  const own = readOr('/proc/self/cgroup', '')
    .split('\n')
    .find((l) => l.startsWith('0::'))
    ?.slice(3)
  let writable = false
  let controllers: string[] = []
  let subtreeControl: string[] = []
  if (fsType === 'cgroup2' && own) {
    const dir = join('/sys/fs/cgroup', own)
    try {
      accessSync(dir, constants.W_OK)
      writable = true
    } catch {
      writable = false
    }
    controllers = readOr(join(dir, 'cgroup.controllers'), '').split(/\s+/).filter(Boolean)
    subtreeControl = readOr(join(dir, 'cgroup.subtree_control'), '').split(/\s+/).filter(Boolean)
  }
  return {fsType, ownCgroup: own, writable, controllers, subtreeControl}
}

/** Whether --memory/--cpus/--pids-limit can be honoured here, with the reason when not. */
export function checkResourceSupport(wanted?: Controller[]): ResourceSupport {
  return evaluateResourceSupport(gatherCgroupFacts(), wanted)
}
