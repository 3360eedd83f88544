/**
 * Minimal registry client for the test harness: push blobs and manifests with the distribution
 * HTTP API, fetch manifests back. Handles Bearer token challenges (token from the realm, with
 * Basic credentials when given).
 */
import { createHash } from 'node:crypto';
export function sha256(data) {
    return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}
export function parseChallenge(header) {
    const m = /^(\w+)\s*(.*)$/s.exec(header.trim());
    const params = {};
    if (!m)
        return { scheme: '', params };
    const re = /(\w+)="([^"]*)"/g;
    let p;
    while ((p = re.exec(m[2])))
        params[p[1]] = p[2];
    return { scheme: m[1], params };
}
export class RegistryClient {
    host;
    creds;
    tokens = new Map();
    constructor(
    /** host:port */
    host, creds) {
        this.host = host;
        this.creds = creds;
    }
    base() {
        return `http://${this.host}`;
    }
    async token(challenge, repo, actions) {
        const { scheme, params } = parseChallenge(challenge);
        if (scheme.toLowerCase() !== 'bearer' || !params.realm)
            throw new Error(`unsupported challenge: ${challenge}`);
        const url = new URL(params.realm);
        if (params.service)
            url.searchParams.set('service', params.service);
        url.searchParams.set('scope', `repository:${repo}:${actions}`);
        const headers = {};
        if (this.creds)
            headers.authorization = `Basic ${Buffer.from(`${this.creds.user}:${this.creds.password}`).toString('base64')}`;
        const res = await fetch(url, { headers });
        if (res.status !== 200)
            throw new Error(`token request ${url}: ${res.status} ${await res.text()}`);
        const body = (await res.json());
        const token = body.token ?? body.access_token;
        if (!token)
            throw new Error(`token request ${url}: no token`);
        return token;
    }
    /** fetch with auth: on 401 gets a token for repo/actions and retries once. */
    async request(repo, actions, url, init = {}) {
        const key = `${repo}:${actions}`;
        const full = url.startsWith('http') ? url : `${this.base()}${url}`;
        const withAuth = () => {
            const headers = new Headers(init.headers);
            const t = this.tokens.get(key);
            if (t)
                headers.set('authorization', `Bearer ${t}`);
            return { ...init, headers, redirect: 'follow' };
        };
        let res = await fetch(full, withAuth());
        if (res.status === 401) {
            const challenge = res.headers.get('www-authenticate');
            await res.arrayBuffer();
            if (!challenge)
                throw new Error(`${full}: 401 without challenge`);
            this.tokens.set(key, await this.token(challenge, repo, actions));
            res = await fetch(full, withAuth());
        }
        return res;
    }
    async hasBlob(repo, digest) {
        const res = await this.request(repo, 'pull,push', `/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
        return res.status === 200;
    }
    async pushBlob(repo, data, digest = sha256(data)) {
        if (await this.hasBlob(repo, digest))
            return digest;
        const start = await this.request(repo, 'pull,push', `/v2/${repo}/blobs/uploads/`, { method: 'POST' });
        await start.arrayBuffer();
        if (start.status !== 202)
            throw new Error(`start upload ${repo}: ${start.status}`);
        const location = start.headers.get('location');
        if (!location)
            throw new Error(`start upload ${repo}: no Location`);
        const url = new URL(location, this.base());
        url.searchParams.set('digest', digest);
        const put = await this.request(repo, 'pull,push', url.toString(), {
            method: 'PUT',
            body: new Uint8Array(data),
            headers: { 'content-type': 'application/octet-stream', 'content-length': String(data.length) },
        });
        const text = await put.text();
        if (put.status !== 201)
            throw new Error(`upload ${repo} ${digest}: ${put.status} ${text}`);
        return digest;
    }
    /** PUT a manifest under a tag or digest; returns the digest the registry reports. */
    async pushManifest(repo, reference, body, mediaType) {
        const res = await this.request(repo, 'pull,push', `/v2/${repo}/manifests/${reference}`, {
            method: 'PUT',
            body: new Uint8Array(body),
            headers: { 'content-type': mediaType },
        });
        const text = await res.text();
        if (res.status !== 201)
            throw new Error(`push manifest ${repo}:${reference}: ${res.status} ${text}`);
        const digest = res.headers.get('docker-content-digest') ?? sha256(body);
        if (digest !== sha256(body))
            throw new Error(`push manifest ${repo}:${reference}: registry says ${digest}, expected ${sha256(body)}`);
        return digest;
    }
    async getManifest(repo, reference, accept) {
        const res = await this.request(repo, 'pull', `/v2/${repo}/manifests/${reference}`, { headers: { accept: accept.join(', ') } });
        const body = Buffer.from(await res.arrayBuffer());
        return { status: res.status, body, mediaType: res.headers.get('content-type') ?? '', digest: res.headers.get('docker-content-digest') ?? '' };
    }
}
