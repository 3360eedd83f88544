/**
 * A Docker-Hub-like token server (the "realm" of a registry's Bearer challenge).
 *
 * GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] with optional Basic auth
 * returns {token, access_token, expires_in, issued_at}. The token is a JWT signed RS256 with a
 * key made at test time by the openssl CLI; its header carries `x5c` (the certificate, which the
 * registry trusts through `rootcertbundle`) and `kid` (the libtrust key id of the public key), so
 * distribution 2.8 verifies it either way.
 *
 * Policy:
 *   public/*   pull: anyone (anonymous too); push: admin
 *   private/*  pull: tester, admin; push: admin
 *   anything else: admin only
 * Known users: admin/adminpw, tester/secret. Any Basic credentials that do not match → 401.
 *
 * Every request is logged; GET /_log returns the log as JSON, POST /_log/reset clears it.
 */
import { execFileSync } from 'node:child_process';
import { createHash, createPrivateKey, randomUUID, sign, X509Certificate } from 'node:crypto';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
export const TOKEN_SERVICE = 'ctr-ts-test';
export const TOKEN_ISSUER = 'ctr-ts-test-issuer';
export const USERS = { admin: 'adminpw', tester: 'secret' };
/** Make a self-signed RSA certificate + key with the openssl CLI in a fresh temp directory. */
export function makeTokenKeyPair() {
    const dir = mkdtempSync(join(tmpdir(), 'ctr-ts-token-'));
    const certPath = join(dir, 'cert.pem');
    const keyPath = join(dir, 'key.pem');
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-sha256', '-days', '2', '-subj', `/CN=${TOKEN_ISSUER}`, '-keyout', keyPath, '-out', certPath], { stdio: ['ignore', 'ignore', 'pipe'] });
    return { dir, certPath, keyPath, certPem: readFileSync(certPath, 'utf8'), keyPem: readFileSync(keyPath, 'utf8') };
}
/** The libtrust key id: base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo), in 4-char groups. */
export function libtrustKeyId(spkiDer) {
    const hash = createHash('sha256').update(spkiDer).digest().subarray(0, 30);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
    let bits = 0;
    let value = 0;
    let out = '';
    for (const byte of hash) {
        value = (value << 8) | byte;
        bits += 8;
        while (bits >= 5) {
            out += alphabet[(value >>> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    return out.match(/.{4}/g).join(':');
}
const b64url = (data) => Buffer.from(data).toString('base64url');
/** Which of the requested actions `user` (undefined = anonymous) gets on repository `name`. */
export function allowedActions(user, name, requested) {
    const grant = new Set();
    if (user === 'admin')
        for (const a of ['pull', 'push', 'delete', '*'])
            grant.add(a);
    else if (name.startsWith('public/'))
        grant.add('pull');
    else if (name.startsWith('private/') && user === 'tester')
        grant.add('pull');
    return requested.filter((a) => grant.has(a));
}
/** Parse `repository:NAME:pull,push` (NAME may contain ':' only for a port-less repo name: it never does). */
export function parseScope(scope) {
    const first = scope.indexOf(':');
    const last = scope.lastIndexOf(':');
    if (first < 0 || last <= first)
        return undefined;
    return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',').filter(Boolean) };
}
export function signToken(keys, claims) {
    const cert = new X509Certificate(keys.certPem);
    const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
    const header = { typ: 'JWT', alg: 'RS256', kid: libtrustKeyId(spki), x5c: [cert.raw.toString('base64')] };
    const now = Math.floor(Date.now() / 1000);
    const payload = {
        iss: TOKEN_ISSUER,
        sub: claims.sub,
        aud: claims.aud,
        exp: now + (claims.ttl ?? 600),
        nbf: now - 10,
        iat: now,
        jti: randomUUID(),
        access: claims.access,
    };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
    const sig = sign('sha256', Buffer.from(input), createPrivateKey(keys.keyPem));
    return `${input}.${b64url(sig)}`;
}
function basicUser(req) {
    const h = req.headers.authorization;
    if (!h)
        return { ok: true, present: false };
    const m = /^Basic\s+(.+)$/i.exec(h);
    if (!m)
        return { ok: false, present: true };
    const decoded = Buffer.from(m[1], 'base64').toString('utf8');
    const i = decoded.indexOf(':');
    const user = i < 0 ? decoded : decoded.slice(0, i);
    const pass = i < 0 ? '' : decoded.slice(i + 1);
    return { user, ok: USERS[user] !== undefined && USERS[user] === pass, present: true };
}
export async function startTokenServer(keys = makeTokenKeyPair()) {
    const log = [];
    const server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://127.0.0.1');
        const query = {};
        for (const [k, v] of url.searchParams)
            (query[k] ??= []).push(v);
        const send = (status, body, headers = {}) => {
            res.writeHead(status, { 'content-type': 'application/json', ...headers });
            res.end(JSON.stringify(body));
        };
        if (url.pathname === '/_log')
            return send(200, log);
        if (url.pathname === '/_log/reset') {
            log.length = 0;
            return send(200, {});
        }
        const auth = basicUser(req);
        const entry = {
            time: new Date().toISOString(),
            method: req.method ?? 'GET',
            path: url.pathname,
            query,
            user: auth.user,
            authorization: auth.present,
            status: 0,
        };
        log.push(entry);
        if (url.pathname !== '/token') {
            entry.status = 404;
            return send(404, { errors: [{ code: 'NOT_FOUND', message: 'no such endpoint' }] });
        }
        if (!auth.ok) {
            entry.status = 401;
            return send(401, { errors: [{ code: 'UNAUTHORIZED', message: 'invalid credentials' }] }, { 'www-authenticate': 'Basic realm="ctr-ts-test"' });
        }
        const service = url.searchParams.get('service') ?? TOKEN_SERVICE;
        const access = [];
        for (const scope of url.searchParams.getAll('scope')) {
            for (const part of scope.split(' ')) {
                const parsed = parseScope(part);
                if (!parsed || parsed.type !== 'repository')
                    continue;
                const actions = allowedActions(auth.user, parsed.name, parsed.actions);
                if (actions.length > 0)
                    access.push({ type: 'repository', name: parsed.name, actions });
            }
        }
        entry.status = 200;
        entry.granted = access;
        const token = signToken(keys, { sub: auth.user ?? '', aud: service, access });
        send(200, { token, access_token: token, expires_in: 600, issued_at: new Date().toISOString() });
    });
    await new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = server.address().port;
    const removeKeys = () => rmSync(keys.dir, { recursive: true, force: true });
    process.once('exit', removeKeys);
    return {
        url: `http://127.0.0.1:${port}`,
        port,
        certPath: keys.certPath,
        log,
        stop: async () => {
            server.closeAllConnections();
            await new Promise((resolve) => server.close(() => resolve()));
            process.off('exit', removeKeys);
            removeKeys();
        },
    };
}
/** From a test: the token server's request log (it runs in the global-setup process). */
export async function tokenServerLog(tokenServer) {
    const res = await fetch(`${tokenServer}/_log`);
    return (await res.json());
}
export async function resetTokenServerLog(tokenServer) {
    await fetch(`${tokenServer}/_log/reset`, { method: 'POST' });
}
/** Ask the token server for a token (user/password optional). Throws on a non-200 answer. */
export async function fetchToken(tokenServer, scope, creds) {
    const headers = {};
    if (creds)
        headers.authorization = `Basic ${Buffer.from(`${creds.user}:${creds.password}`).toString('base64')}`;
    const url = `${tokenServer}/token?service=${encodeURIComponent(TOKEN_SERVICE)}&scope=${encodeURIComponent(scope)}`;
    const res = await fetch(url, { headers });
    if (res.status !== 200)
        throw new Error(`token server: ${res.status} for ${scope}`);
    const body = (await res.json());
    return body.token;
}
