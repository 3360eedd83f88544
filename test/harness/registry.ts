/**
 * Runs Debian's docker-registry (distribution 2.8) on 127.0.0.1 with temporary storage.
 */
import {type ChildProcess, execFileSync, spawn} from 'node:child_process'
import {request as httpsRequest} from 'node:https'
import {existsSync, mkdtempSync, rmSync, writeFileSync} from 'node:fs'
import {createServer} from 'node:net'
import {tmpdir} from 'node:os'
import {delimiter, join} from 'node:path'
import {TOKEN_ISSUER, TOKEN_SERVICE} from './token-server.js'

export interface RunningRegistry {
  /** host:port, e.g. 127.0.0.1:40123 */
  host: string
  port: number
  dir: string
  stop(): Promise<void>
}

export interface TokenAuthOptions {
  realm: string
  certPath: string
}

/** Certificate and key (PEM files) for a TLS registry. */
export interface TlsFiles {
  certificate: string
  key: string
}

/** A self-signed certificate for 127.0.0.1 (it is its own CA): `openssl req -x509`. */
export function selfSignedCert(dir: string): TlsFiles {
  const files = {certificate: join(dir, 'cert.pem'), key: join(dir, 'key.pem')}
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2',
    '-keyout', files.key, '-out', files.certificate,
    '-subj', '/CN=ctr-ts test registry', '-addext', 'subjectAltName=IP:127.0.0.1',
  ], {stdio: 'ignore'})
  return files
}

export function findBinary(name: string, extra: string[] = []): string | undefined {
  for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extra]) {
    if (!dir) continue
    const p = join(dir, name)
    if (existsSync(p)) return p
  }
  return undefined
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}

function configYaml(dir: string, port: number, auth?: TokenAuthOptions, tls?: TlsFiles): string {
  const lines = [
    'version: 0.1',
    'log:',
    '  level: error',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${join(dir, 'data')}`,
    '  delete:',
    '    enabled: true',
    '  maintenance:',
    '    uploadpurging:',
    '      enabled: false',
    'http:',
    `  addr: 127.0.0.1:${port}`,
    '  secret: ctr-ts-test-secret',
  ]
  if (tls) lines.push('  tls:', `    certificate: ${tls.certificate}`, `    key: ${tls.key}`)
  if (auth) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${auth.realm}`,
      `    service: ${TOKEN_SERVICE}`,
      `    issuer: ${TOKEN_ISSUER}`,
      `    rootcertbundle: ${auth.certPath}`,
    )
  }
  return lines.join('\n') + '\n'
}

async function waitForV2(url: string, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited (${child.exitCode}): ${output()}`)
    try {
      const status = url.startsWith('https:') ? await httpsStatus(url) : await fetch(url, {signal: AbortSignal.timeout(1000)}).then(async (res) => {
        await res.arrayBuffer()
        return res.status
      })
      if (status === 200 || status === 401) return
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100))
  }
  throw new Error(`docker-registry did not answer ${url} within ${timeoutMs}ms: ${output()}`)
}

/** Status of a GET over HTTPS without verifying the certificate (readiness probe only). */
function httpsStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, {rejectUnauthorized: false, timeout: 1000}, (res) => {
      res.resume()
      res.on('end', () => resolve(res.statusCode ?? 0))
    })
    req.on('timeout', () => req.destroy(new Error('timeout')))
    req.on('error', reject)
    req.end()
  })
}

// If the test process dies without teardown (Ctrl-C), do not leave registries behind.
const live = new Map<ChildProcess, string>()
let exitHookInstalled = false
function trackChild(child: ChildProcess, dir: string): void {
  live.set(child, dir)
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once('exit', () => {
    for (const [c, d] of live) {
      c.kill('SIGKILL')
      rmSync(d, {recursive: true, force: true})
    }
  })
}

/**
 * Start a registry; with `auth` it requires Bearer tokens from the given realm; with `opts.tls`
 * it serves HTTPS only, with that certificate.
 */
export async function startRegistry(auth?: TokenAuthOptions, opts: {tls?: TlsFiles} = {}): Promise<RunningRegistry> {
  const bin = findBinary('docker-registry', ['/usr/bin', '/usr/sbin'])
  if (!bin) throw new Error('docker-registry not found (apt-get install docker-registry)')
  let lastError: unknown
  for (let attempt = 0; attempt < 5; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-registry-'))
    const port = await freePort()
    const configPath = join(dir, 'config.yml')
    writeFileSync(configPath, configYaml(dir, port, auth, opts.tls))
    let out = ''
    const child = spawn(bin, ['serve', configPath], {stdio: ['ignore', 'pipe', 'pipe'], env: {...process.env, OTEL_TRACES_EXPORTER: 'none'}})
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)))
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-4000)))
    trackChild(child, dir)
    const stop = async () => {
      live.delete(child)
      if (child.exitCode === null && child.signalCode === null) {
        const exited = new Promise<void>((r) => child.once('exit', () => r()))
        child.kill('SIGTERM')
        const timer = setTimeout(() => child.kill('SIGKILL'), 3000)
        await exited
        clearTimeout(timer)
      }
      rmSync(dir, {recursive: true, force: true})
    }
    try {
      await waitForV2(`${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}/v2/`, child, () => out)
      return {host: `127.0.0.1:${port}`, port, dir, stop}
    } catch (err) {
      lastError = err
      await stop()
    }
  }
  throw lastError
}
