/**
 * `system info` in docker's field names (docker info's Info struct) for `--format`, with the
 * ctr-ts fields (versions, runtime, store, layers, configSources and the lower-case counts)
 * kept beside them: `{{.Containers}}`, `{{.Images}}`, `{{.Driver}}`, `{{.DockerRootDir}}`,
 * `{{.ServerVersion}}`, `{{.NCPU}}`, `{{.MemTotal}}` read as in docker.
 */
import {readFileSync} from 'node:fs'
import {arch, cpus, hostname, release, totalmem} from 'node:os'
import type {SystemInfo} from './info.js'

const GO_ARCH: Record<string, string> = {x64: 'x86_64', arm64: 'aarch64', arm: 'armv7l', ia32: 'i686', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64'}

function operatingSystem(): string {
  try {
    const m = /^PRETTY_NAME="?([^"\n]*)"?$/m.exec(readFileSync('/etc/os-release', 'utf8'))
    return m?.[1] ?? 'linux'
  } catch {
    return 'linux'
  }
}

export function dockerInfo(info: SystemInfo) {
  return {
    ID: '',
    Containers: info.containers.total,
    ContainersRunning: info.containers.running,
    ContainersPaused: 0,
    ContainersStopped: info.containers.stopped,
    Images: info.images,
    Driver: info.store.driver,
    DockerRootDir: info.store.root,
    ServerVersion: info.versions['ctr-ts'] ?? '',
    KernelVersion: release(),
    OperatingSystem: operatingSystem(),
    OSType: 'linux',
    Architecture: GO_ARCH[arch()] ?? arch(),
    NCPU: cpus().length,
    MemTotal: totalmem(),
    Name: hostname(),
    DefaultRuntime: info.runtime.name,
    Runtimes: {[info.runtime.name]: {path: info.runtime.path ?? ''}},
    SecurityOptions: ['name=seccomp,profile=builtin', 'name=rootless'],
    Labels: [],
    ...info,
  }
}
