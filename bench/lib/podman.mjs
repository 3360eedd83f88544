// Rootless podman (and skopeo) as the peers, each in throw-away storage: --root/--runroot and
// XDG_RUNTIME_DIR/HOME in temporary directories so nothing touches the user's real podman
// setup, and everything (containers, the rootless pause process, storage) is removed afterwards.
import {existsSync, mkdirSync, mkdtempSync, readFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import {join} from 'node:path'
import {loadHarness} from './harness.mjs'
import {mustRun, timed, which} from './exec.mjs'

/** podman's storage driver: overlay through fuse-overlayfs (as ctr-ts does), `native` overlay (podman's own default on a 5.13+ kernel: the kernel's overlayfs, no mount_program), else vfs. */
function storageArgs(driver) {
  if (driver === 'vfs') return ['--storage-driver', 'vfs']
  if (driver === 'native') return ['--storage-driver', 'overlay']
  return ['--storage-driver', 'overlay', '--storage-opt', `overlay.mount_program=${which('fuse-overlayfs') ?? '/usr/bin/fuse-overlayfs'}`]
}

/**
 * A fresh podman in temporary storage, or undefined when podman is not installed.
 * runc (crun cannot run rootless on this machine's cgroup v1), cgroupfs, file events.
 */
export async function podmanStore({driver = 'overlay'} = {}) {
  const bin = which('podman')
  if (!bin) return undefined
  const {cli} = await loadHarness()
  const base = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-podman-'))
  const runtimeDir = mkdtempSync('/tmp/pbr-') // short: conmon's attach socket path
  const home = join(base, 'home')
  mkdirSync(home, {recursive: true})
  const env = {...process.env, HOME: home, XDG_RUNTIME_DIR: runtimeDir, XDG_CONFIG_HOME: join(home, '.config'), XDG_DATA_HOME: join(home, '.local', 'share')}
  const globalArgs = [
    '--root', join(base, 'storage'),
    '--runroot', join(runtimeDir, 'containers'),
    ...storageArgs(driver),
    '--runtime', which('runc') ?? 'runc',
    '--cgroup-manager', 'cgroupfs',
    '--events-backend', 'file',
    '--log-level', 'error',
  ]
  const store = {
    bin,
    driver,
    env,
    globalArgs,
    run: (args, opts = {}) => timed(bin, [...globalArgs, ...args], {env, ...opts}),
    must: (args, opts = {}) => mustRun(bin, [...globalArgs, ...args], {env, ...opts}),
    /** Removes the images (podman rmi -af) so the next pull is cold; keeps the pause process. */
    async wipeImages() {
      await timed(bin, [...globalArgs, 'rm', '-af', '-t', '0'], {env, timeoutMs: 60_000})
      await timed(bin, [...globalArgs, 'rmi', '-af'], {env, timeoutMs: 60_000})
    },
    async cleanup() {
      await timed(bin, [...globalArgs, 'rm', '-af', '-t', '0'], {env, timeoutMs: 60_000})
      // podman's rootless user-namespace holder ("pause" process) lives in the runtime dir we gave it
      for (const f of [join(runtimeDir, 'libpod', 'tmp', 'pause.pid'), join(runtimeDir, 'libpod', 'pause.pid')]) {
        if (!existsSync(f)) continue
        const pid = Number(readFileSync(f, 'utf8').trim())
        if (pid > 1) {
          try {
            process.kill(pid, 'SIGKILL')
          } catch {
            // already gone
          }
        }
      }
      await timed('fusermount3', ['-u', '-z', join(base, 'storage', 'overlay')], {timeoutMs: 10_000}).catch(() => undefined)
      await cli.removeTree(base)
      await cli.removeTree(runtimeDir)
    },
  }
  return store
}

/** `skopeo copy` of a registry image into a fresh OCI layout directory; undefined when not installed. */
export function skopeoCopier() {
  const bin = which('skopeo')
  if (!bin) return undefined
  return {
    bin,
    async copy(ref) {
      const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-bench-skopeo-'))
      try {
        // private HOME and runtime dir: no auth.json or policy of the user's (or another run's) is read
        const env = {...process.env, HOME: dir, XDG_RUNTIME_DIR: dir}
        return await timed(bin, ['copy', '--quiet', '--src-tls-verify=false', '--src-no-creds', `docker://${ref}`, `oci:${join(dir, 'img')}:latest`], {env})
      } finally {
        const {cli} = await loadHarness()
        await cli.removeTree(dir)
      }
    },
  }
}
