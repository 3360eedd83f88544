/**
 * Runs Debian's docker-registry (distribution 2.8) on 127.0.0.1 with temporary storage.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { TOKEN_ISSUER, TOKEN_SERVICE } from './token-server.js';
export function findBinary(name, extra = []) {
    for (const dir of [...(process.env.PATH ?? '').split(delimiter), ...extra]) {
        if (!dir)
            continue;
        const p = join(dir, name);
        if (existsSync(p))
            return p;
    }
    return undefined;
}
export async function freePort() {
    return new Promise((resolve, reject) => {
        const srv = createServer();
        srv.once('error', reject);
        srv.listen(0, '127.0.0.1', () => {
            const addr = srv.address();
            const port = typeof addr === 'object' && addr ? addr.port : 0;
            srv.close(() => resolve(port));
        });
    });
}
function configYaml(dir, port, auth) {
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
    ];
    if (auth) {
        lines.push('auth:', '  token:', `    realm: ${auth.realm}`, `    service: ${TOKEN_SERVICE}`, `    issuer: ${TOKEN_ISSUER}`, `    rootcertbundle: ${auth.certPath}`);
    }
    return lines.join('\n') + '\n';
}
async function waitForV2(url, child, output, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
        if (child.exitCode !== null)
            throw new Error(`docker-registry exited (${child.exitCode}): ${output()}`);
        try {
            const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
            await res.arrayBuffer();
            if (res.status === 200 || res.status === 401)
                return;
        }
        catch {
            // not up yet
        }
        await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`docker-registry did not answer ${url} within ${timeoutMs}ms: ${output()}`);
}
// If the test process dies without teardown (Ctrl-C), do not leave registries behind.
const live = new Map();
let exitHookInstalled = false;
function trackChild(child, dir) {
    live.set(child, dir);
    if (exitHookInstalled)
        return;
    exitHookInstalled = true;
    process.once('exit', () => {
        for (const [c, d] of live) {
            c.kill('SIGKILL');
            rmSync(d, { recursive: true, force: true });
        }
    });
}
/** Start a registry; with `auth` it requires Bearer tokens from the given realm. */
export async function startRegistry(auth) {
    const bin = findBinary('docker-registry', ['/usr/bin', '/usr/sbin']);
    if (!bin)
        throw new Error('docker-registry not found (apt-get install docker-registry)');
    let lastError;
    for (let attempt = 0; attempt < 5; attempt++) {
        const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-registry-'));
        const port = await freePort();
        const configPath = join(dir, 'config.yml');
        writeFileSync(configPath, configYaml(dir, port, auth));
        let out = '';
        const child = spawn(bin, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, OTEL_TRACES_EXPORTER: 'none' } });
        child.stdout.on('data', (d) => (out = (out + d.toString()).slice(-4000)));
        child.stderr.on('data', (d) => (out = (out + d.toString()).slice(-4000)));
        trackChild(child, dir);
        const stop = async () => {
            live.delete(child);
            if (child.exitCode === null && child.signalCode === null) {
                const exited = new Promise((r) => child.once('exit', () => r()));
                child.kill('SIGTERM');
                const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
                await exited;
                clearTimeout(timer);
            }
            rmSync(dir, { recursive: true, force: true });
        };
        try {
            await waitForV2(`http://127.0.0.1:${port}/v2/`, child, () => out);
            return { host: `127.0.0.1:${port}`, port, dir, stop };
        }
        catch (err) {
            lastError = err;
            await stop();
        }
    }
    throw lastError;
}
