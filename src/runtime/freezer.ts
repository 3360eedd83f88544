/**
 * pause/unpause: the runtime's freezer. Rootless, a container has a cgroup of its own only where
 * cgroup v2 is delegated to the user (systemd's user slice); on cgroup v1 (or v2 without
 * delegation) its processes stay in the user's session cgroup, which nothing may freeze.
 */
import {execFile} from 'node:child_process'
import {accessSync, constants, existsSync, readFileSync} from 'node:fs'
import {PrerequisiteError, RuntimeError} from '../errors.js'
import {requireBinary} from './binaries.js'
import {lastRuntimeError} from './classify.js'
import type {OciRuntime} from './runtime.js'

/** Why this machine cannot freeze a rootless container, or undefined when it can. */
export function freezerUnavailable(): string | undefined {
  if (!existsSync('/sys/fs/cgroup/cgroup.controllers')) {
    return 'pausing needs the cgroup v2 freezer delegated to your user: this machine uses cgroup v1 (or hybrid), where a rootless container has no cgroup of its own to freeze'
  }
  const own = readFileSync('/proc/self/cgroup', 'utf8').match(/^0::(.*)$/m)?.[1]
  try {
    if (own) {
      accessSync(`/sys/fs/cgroup${own}`, constants.W_OK)
      return undefined
    }
  } catch {
    // not delegated
  }
  return 'pausing needs the cgroup v2 freezer delegated to your user (a systemd user slice with Delegate=yes): your cgroup is not writable'
}

/** `runtime pause|resume ID` in the container's user and mount namespace (where its state lives). */
export async function setFrozen(runtime: OciRuntime, shimPid: number, id: string, frozen: boolean): Promise<void> {
  const why = freezerUnavailable()
  if (why) throw new PrerequisiteError(why)
  const nsenter = requireBinary('nsenter', 'install util-linux')
  const args = ['--target', String(shimPid), '--user', '--mount', '--', runtime.path, ...runtime.globalArgs, frozen ? 'pause' : 'resume', id]
  await new Promise<void>((resolve, reject) =>
    execFile(nsenter, args, (err, _stdout, stderr) => {
      if (!err) return resolve()
      reject(new RuntimeError(`${frozen ? 'pause' : 'unpause'} failed: ${lastRuntimeError(String(stderr)) || err.message}`))
    }),
  )
}
