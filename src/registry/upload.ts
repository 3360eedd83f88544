import type {Readable} from 'node:stream'
import {NotFoundError, RegistryError, TimeoutError, TransientError, UnreachableError} from '../errors.js'
import type {RegistryClient} from './client.js'
import {discardBody, readSmallBody, responseHeader, type HttpResponse} from './http.js'

/**
 * Blob and manifest uploads of the distribution API v2 (what `push` does with a RegistryClient
 * made with `push`): HEAD for blobs already there, a cross-repository mount, a monolithic PUT
 * or chunked PATCHes with Content-Range that resume from the registry's Range after a dropped
 * connection, and the manifest PUT.
 */

/** A blob to upload: `open(start)` streams its bytes from offset `start` to the end. */
export interface BlobSource {
  digest: string
  size: number
  open(start: number, end: number): Readable
}

export type UploadOutcome = 'exists' | 'mounted' | 'pushed'

export interface UploadOptions {
  /** A repository of the same registry that has the blob: mounted from there. */
  mountFrom?: string
  /** Blobs larger than this go in PATCH chunks of this size; smaller in one PUT. */
  chunkBytes: number
  /** How often a dropped chunk is resumed before giving up. */
  maxResumes?: number
  onProgress?: (bytesSent: number) => void
  onNotice?: (message: string) => void
}

function isDrop(err: unknown): boolean {
  return err instanceof TransientError || err instanceof TimeoutError || err instanceof UnreachableError
}

async function drain(res: HttpResponse): Promise<void> {
  await readSmallBody(res.body)
}

function uploadUrl(res: HttpResponse, what: string): string {
  const location = responseHeader(res.headers, 'location')
  if (!location) throw new RegistryError(`registry ${res.url.host}: ${what}: no upload location in its answer`)
  return new URL(location, res.url).toString()
}

function withQuery(url: string, params: Record<string, string>): string {
  const u = new URL(url)
  for (const [k, v] of Object.entries(params)) u.searchParams.set(k, v)
  return u.toString()
}

/** The offset after the last byte the registry holds (`Range: 0-N`), 0 when it holds none. */
export function offsetFromRange(range: string | undefined): number {
  const m = /^(?:bytes=)?0-(\d+)$/.exec(range?.trim() ?? '')
  return m ? Number(m[1]) + 1 : 0
}

/** The upload URL of a 202 answer to POST …/blobs/uploads/ (anything else is an error). */
async function uploadLocation(client: RegistryClient, res: HttpResponse, what: string): Promise<string> {
  if (res.statusCode !== 202) {
    await client.expectOk(res, what)
    await drain(res)
    throw new RegistryError(`registry ${res.url.host}: ${what}: unexpected status ${res.statusCode}`)
  }
  await drain(res)
  return uploadUrl(res, what)
}

/** True when `repo` already has the blob (HEAD). */
export async function blobExists(client: RegistryClient, repo: string, digest: string): Promise<boolean> {
  const what = `blob ${digest} in ${repo}`
  const res = await client.send(`/v2/${repo}/blobs/${digest}`, {method: 'HEAD', what})
  if (res.statusCode === 404) {
    discardBody(res.body)
    return false
  }
  await client.expectOk(res, what)
  discardBody(res.body)
  return true
}

/** Uploads one blob to `repo` unless it is there already (or can be mounted). */
export async function uploadBlob(client: RegistryClient, repo: string, blob: BlobSource, opts: UploadOptions): Promise<UploadOutcome> {
  if (await blobExists(client, repo, blob.digest)) return 'exists'
  const what = `upload of ${blob.digest} to ${repo}`
  const query = opts.mountFrom && opts.mountFrom !== repo ? `?mount=${encodeURIComponent(blob.digest)}&from=${encodeURIComponent(opts.mountFrom)}` : ''
  const started = await client.send(`/v2/${repo}/blobs/uploads/${query}`, {method: 'POST', headers: {'content-length': '0'}, what})
  if (started.statusCode === 201 && query) {
    await drain(started)
    return 'mounted'
  }
  let location = await uploadLocation(client, started, what)

  if (blob.size <= opts.chunkBytes) {
    const res = await client.send(
      withQuery(location, {digest: blob.digest}),
      {
        method: 'PUT',
        headers: {'content-type': 'application/octet-stream', 'content-length': String(blob.size)},
        body: () => blob.open(0, blob.size),
        what,
      },
    )
    await client.expectOk(res, what)
    await drain(res)
    opts.onProgress?.(blob.size)
    return 'pushed'
  }

  let offset = 0
  let resumes = 0
  const maxResumes = opts.maxResumes ?? 5
  while (offset < blob.size) {
    const end = Math.min(offset + opts.chunkBytes, blob.size)
    try {
      const res = await client.send(
        location,
        {
          method: 'PATCH',
          headers: {'content-type': 'application/octet-stream', 'content-length': String(end - offset), 'content-range': `${offset}-${end - 1}`},
          body: () => blob.open(offset, end),
          what,
        },
        false,
      )
      if (res.statusCode !== 202) {
        await client.expectOk(res, what)
        await drain(res)
        throw new RegistryError(`registry ${res.url.host}: ${what}: unexpected status ${res.statusCode} for a chunk`)
      }
      await drain(res)
      location = uploadUrl(res, what)
      const range = responseHeader(res.headers, 'range')
      offset = range ? offsetFromRange(range) : end
      opts.onProgress?.(offset)
    } catch (err) {
      if (!isDrop(err) || resumes >= maxResumes) throw err
      resumes++
      const short = blob.digest.slice(7, 19)
      // Where did it stop? The registry's Range on the upload URL says (204, Range: 0-N). A
      // registry that dropped the session (distribution cancels an upload whose size no longer
      // matches its state) answers 4xx: the blob starts over in a new session.
      const status = await client.send(location, {method: 'GET', what})
      if (status.statusCode >= 400 && status.statusCode < 500 && status.statusCode !== 401 && status.statusCode !== 403) {
        await drain(status)
        const restarted = await client.send(`/v2/${repo}/blobs/uploads/`, {method: 'POST', headers: {'content-length': '0'}, what})
        location = await uploadLocation(client, restarted, what)
        offset = 0
        opts.onNotice?.(`${short}: connection dropped (${(err as Error).message}); the registry dropped the upload, restarting it`)
        continue
      }
      await client.expectOk(status, what)
      await drain(status)
      location = responseHeader(status.headers, 'location') ? uploadUrl(status, what) : location
      offset = offsetFromRange(responseHeader(status.headers, 'range'))
      opts.onNotice?.(`${short}: connection dropped (${(err as Error).message}); resuming at byte ${offset}`)
    }
  }
  const done = await client.send(withQuery(location, {digest: blob.digest}), {method: 'PUT', headers: {'content-length': '0'}, what})
  await client.expectOk(done, what)
  await drain(done)
  return 'pushed'
}

/** PUTs a manifest (or index) under a tag or digest; returns the digest the registry reports. */
export async function putManifest(client: RegistryClient, repo: string, reference: string, bytes: Buffer, mediaType: string): Promise<string | undefined> {
  const what = `manifest ${repo}:${reference}`
  const res = await client.send(`/v2/${repo}/manifests/${reference}`, {
    method: 'PUT',
    headers: {'content-type': mediaType, 'content-length': String(bytes.length)},
    body: () => bytes,
    what,
  })
  await client.expectOk(res, what, () => new NotFoundError(`${what}: the registry is missing a blob it names`))
  await drain(res)
  return responseHeader(res.headers, 'docker-content-digest')
}
