import {createHash} from 'node:crypto'
import {PassThrough, Transform, type Readable} from 'node:stream'
import {pipeline} from 'node:stream/promises'
import {createGzip} from 'node:zlib'
import {MediaType, type LayerRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {writeBlobStream} from '../store/content.js'

/**
 * Stores an uncompressed layer tar as a gzip blob: its diff id is the digest of the tar as it
 * streams by, its digest that of the compressed bytes.
 */
export async function storeLayerTar(store: StoreLayout, tar: Readable): Promise<LayerRecord> {
  const hash = createHash('sha256')
  const tee = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      hash.update(chunk)
      cb(null, chunk)
    },
  })
  const out = new PassThrough()
  const written = writeBlobStream(store, out)
  written.catch(() => {})
  await pipeline(tar, tee, createGzip(), out)
  const {digest, size} = await written
  return {digest, size, mediaType: MediaType.OciLayerGzip, diffId: `sha256:${hash.digest('hex')}`}
}
