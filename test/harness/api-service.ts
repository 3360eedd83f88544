/**
 * `ctr-ts system service` for tests: started on a socket in the test's runtime directory, with
 * the test's store; Debian's docker client (/usr/bin/docker, client only) pointed at it.
 */
import {type ChildProcess, execFile, spawn} from 'node:child_process'
import {existsSync, mkdirSync} from 'node:fs'
import {request} from 'node:http'
import {join} from 'node:path'
import {CLI, ctr, REPO_ROOT, tempRoot, type TempRoot} from './cli.js'
import {testEnv} from './env.js'
import {waitFor} from './proc.js'

export const DOCKER = process.env.CTR_TS_TEST_DOCKER ?? '/usr/bin/docker'

export interface ApiService {
  child: ChildProcess
  socket: string
  host: string
  stderr(): string
  /** The docker client's environment: DOCKER_HOST and a private DOCKER_CONFIG. */
  dockerEnv: Record<string, string>
  stop(): Promise<void>
}

export async function startService(t: TempRoot, extraArgs: string[] = ['--time', '0']): Promise<ApiService> {
  const socket = join(t.runRoot, 'api', 'docker.sock')
  const child = spawn(process.execPath, [CLI, 'system', 'service', ...extraArgs, `unix://${socket}`], {
    cwd: REPO_ROOT,
    env: {...process.env, ...t.env, NO_COLOR: '1'},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  child.stdout!.resume()
  const up = await waitFor(() => existsSync(socket) || child.exitCode !== null, 30_000)
  if (!up || child.exitCode !== null) throw new Error(`system service did not start: ${err}`)
  const dockerConfig = join(t.home, '.docker')
  mkdirSync(dockerConfig, {recursive: true})
  return {
    child,
    socket,
    host: `unix://${socket}`,
    stderr: () => err,
    dockerEnv: {DOCKER_HOST: `unix://${socket}`, DOCKER_CONFIG: dockerConfig, HOME: t.home},
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      child.kill('SIGTERM')
      await new Promise((r) => child.once('close', r))
    },
  }
}

export interface DockerResult {
  exitCode: number
  stdout: string
  stderr: string
}

/** Runs the docker client against the service; never throws on a non-zero exit. */
export function docker(svc: ApiService, args: string[], opts: {input?: string; timeoutMs?: number; bin?: string} = {}): Promise<DockerResult> {
  return new Promise((resolve) => {
    const child = execFile(opts.bin ?? DOCKER, args, {env: {PATH: process.env.PATH ?? '/usr/bin:/bin', ...svc.dockerEnv}, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 64 * 1024 * 1024}, (error, stdout, stderr) => {
      const code = error ? (typeof (error as {code?: unknown}).code === 'number' ? ((error as {code: number}).code) : 124) : 0
      resolve({exitCode: code, stdout: String(stdout), stderr: String(stderr)})
    })
    child.stdin!.end(opts.input ?? '')
  })
}

export interface RawResponse {
  status: number
  headers: Record<string, string | string[] | undefined>
  body: Buffer
}

/** One HTTP request on the socket (for what no client sends: bad JSON, huge bodies). */
export function apiRequest(svc: ApiService, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request({socketPath: svc.socket, method, path, headers: {Host: 'docker', ...(body !== undefined ? {'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(body))} : {}), ...headers}}, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks)}))
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

/** A fresh store with the busybox fixture pulled into it (what the API tests start from). */
export async function rootWithBusybox(): Promise<{t: TempRoot; busybox: string}> {
  const t = tempRoot()
  const busybox = testEnv().fixtures.busybox!.ref
  const pulled = await ctr(['pull', '-q', busybox], {env: t.env})
  if (pulled.exitCode !== 0) throw new Error(`pull ${busybox}: ${pulled.stderr}`)
  return {t, busybox}
}

/** Stops the service, removes every container and the store. */
export async function stopAndClean(t: TempRoot | undefined, svc: ApiService | undefined): Promise<void> {
  await svc?.stop()
  if (t) await ctr(['rm', '-af'], {env: t.env})
  await t?.cleanup()
}

