import {Args, Flags} from '@oclif/core'
import {join} from 'node:path'
import {CtrCommand} from '../../base-command.js'
import {UsageError} from '../../errors.js'

export default class SystemService extends CtrCommand {
  static override summary = 'Serve the Docker Engine API (v1.41) on a unix socket'
  static override description = [
    'Runs in the foreground and answers the Docker Engine API, so the docker CLI, docker-compose, dockerode and Testcontainers work on ctr-ts without root or dockerd.',
    'Listens on unix://$XDG_RUNTIME_DIR/ctr-ts/docker.sock by default (directory 0700, socket 0600); under systemd socket activation (LISTEN_FDS) on the socket systemd passes.',
    'A tcp:// address is used only when given explicitly: anyone who reaches it controls your containers.',
    'Exits after --time seconds without a request or an open stream (0: never). Containers it starts keep running after it exits.',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> system service --time 60 &',
    'DOCKER_HOST=unix://$XDG_RUNTIME_DIR/ctr-ts/docker.sock docker run --rm busybox echo hi',
    '<%= config.bin %> system service --time 0 unix:///tmp/me/docker.sock',
  ]
  static override flags = {
    time: Flags.integer({char: 't', description: 'seconds without a request or an open stream before exiting (0: never)', default: 5, min: 0}),
  }
  static override args = {
    uri: Args.string({description: 'where to listen: unix:///PATH (default: unix://$XDG_RUNTIME_DIR/ctr-ts/docker.sock) or tcp://HOST:PORT'}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(SystemService)
    const {activationFd, createApiServer, IdleTracker, listen, parseListenUri} = await import('../../api/server.js')
    const fd = activationFd()
    if (fd !== undefined && args.uri) throw new UsageError('started by systemd socket activation: the address comes from the socket unit, not from an argument')
    const ctx = await this.context(flags.config)
    const addr = fd !== undefined ? ({kind: 'fd', fd} as const) : parseListenUri(args.uri ?? `unix://${join(ctx.run.root, 'docker.sock')}`)
    if (addr.kind === 'tcp') {
      process.stderr.write(
        `WARNING: ctr-ts system service listens on tcp://${addr.host}:${addr.port} without TLS or authentication.\n` +
          'WARNING: anyone who can reach this address can run containers as you and read or change your files.\n',
      )
    }
    let finish!: () => void
    const stopped = new Promise<void>((resolve) => (finish = resolve))
    const idle = new IdleTracker(flags.time * 1000, () => finish())
    const api = createApiServer(ctx, {version: this.config.version}, idle)
    await listen(api.server, addr)
    const where = addr.kind === 'unix' ? `unix://${addr.path}` : addr.kind === 'tcp' ? `tcp://${addr.host}:${addr.port}` : `fd ${addr.fd} (socket activation)`
    process.stderr.write(`ctr-ts: API listening on ${where}\n`)
    const onSignal = () => finish()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    await stopped
    idle.stop()
    await api.close()
    if (addr.kind === 'unix') {
      const {unlinkSync} = await import('node:fs')
      try {
        unlinkSync(addr.path)
      } catch {
        // already gone
      }
    }
    // Streams still being read (a log file's watcher, a shim connection) end with the process;
    // containers keep running under their shims.
    process.exit(process.exitCode ?? 0)
  }
}
