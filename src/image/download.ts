import {IntegrityError} from '../errors.js'
import type {Descriptor} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import type {RegistryClient} from '../registry/client.js'
import {discardBody, responseHeader} from '../registry/http.js'
import type {TransferLimits} from '../registry/limits.js'
import {pumpBody} from '../registry/transfer.js'
import {Ingest} from '../store/content.js'

/**
 * Follows a download as it lands on disk (pull streams each layer into the unpacker this way:
 * it reads the ingest file as it grows, so a layer unpacks while it downloads, from the one copy
 * on disk). Each attempt writes its own ingest file: `begin` names it, `grew` says how many
 * bytes it holds, `failed` that it was removed (a retry begins anew, or the download failed).
 */
export interface IngestFollower {
  begin(path: string): void
  grew(bytes: number): void
  failed(): void
}

/**
 * Downloads one blob into the store: streamed into a unique ingest file while hashed, never more
 * than the descriptor's size accepted (a registry sending more is cut off at once), size and
 * digest verified, then renamed into blobs/. A failed attempt leaves nothing behind; transient
 * failures are retried from zero by the client.
 */
export async function downloadBlob(
  store: StoreLayout,
  client: RegistryClient,
  desc: Pick<Descriptor, 'digest' | 'size'>,
  limits: TransferLimits,
  onProgress?: (bytes: number) => void,
  follower?: IngestFollower,
): Promise<void> {
  await client.fetchBlob(desc.digest, async (res, host) => {
    const tooMany = (got: number) => new IntegrityError(`blob ${desc.digest} from ${host}: more than the ${desc.size} bytes announced (got at least ${got})`)
    const declared = responseHeader(res.headers, 'content-length')
    if (declared !== undefined && /^\d+$/.test(declared) && Number(declared) !== desc.size) {
      discardBody(res.body)
      throw new IntegrityError(`blob ${desc.digest} from ${host}: Content-Length ${declared} does not match the descriptor's size ${desc.size}`)
    }
    const ingest = await Ingest.create(store, desc.digest, desc.size)
    follower?.begin(ingest.tempPath)
    let lastReport = 0
    try {
      const received = await pumpBody(res.body, {
        limits,
        host,
        what: `blob ${desc.digest}`,
        maxBytes: desc.size,
        tooLarge: tooMany,
        onChunk: async (chunk) => {
          await ingest.write(chunk)
          follower?.grew(ingest.bytes)
          const now = Date.now()
          if (onProgress && now - lastReport > 100) {
            lastReport = now
            onProgress(ingest.bytes)
          }
        },
      })
      if (received < desc.size) throw new IntegrityError(`blob ${desc.digest} from ${host}: got ${received} bytes, expected ${desc.size}`)
    } catch (err) {
      await ingest.abort()
      follower?.failed()
      throw err
    }
    try {
      await ingest.commit()
    } catch (err) {
      follower?.failed()
      throw err
    }
    onProgress?.(desc.size)
  })
}
