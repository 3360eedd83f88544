/**
 * The unpacking program that runs INSIDE the user namespace (as its root, so chown to image ids
 * works): `node dist/layer/unpack-main.js` reads a streamed job on stdin (`pull` starts this
 * program while it still fetches the manifest, and hands over each layer as soon as its blob is
 * verified and in the store), one JSON per line:
 *
 *   {"stream": true, "canChown": true, "concurrency"?: 2}
 *   {"blob": PATH, "mediaType": MT, "diffId": "sha256:..", "dest": DIR, "digest"?: D}   (any number)
 *   {"blob": .., "ingest": PATH, "digest": D, ...}   a layer still downloading into PATH, read as it grows:
 *   {"grow": D, "bytes": N}  {"complete": D, "size"?: N}  {"cancel": D}   (see growing-blob.ts)
 *   {"end": true}
 *
 * End of input before `{"end":true}` means the caller died: exit 1 at once. Each blob is unpacked
 * into its `dest` (an existing empty directory the caller chose), the diffId is verified, and
 * JSON lines go to stdout:
 *
 *   {"type":"ready"}  (the job header was read)
 *   {"type":"unpacking","digest":D}   {"type":"warning","digest":D,"message":M}
 *   {"type":"unpacked","digest":D,"diffId":..,"entries":N,"bytes":N}
 *   {"type":"error","digest":D,"kind":"LayerError"|"IntegrityError"|...,"message":M}
 *   {"type":"cancelled","digest":D}   (a streamed layer whose download failed: the others go on)
 *
 * On failure it exits 1 with one line on stderr (no stack trace); the caller removes the dests.
 */
import module from 'node:module'

// Every pull starts this program afresh: reuse V8's compiled code between runs.
module.enableCompileCache?.()
// Started again as a worker thread, this program applies one layer's entries (unpack-thread.ts).
const thread = await import('./unpack-thread.js')
if (thread.isUnpackThread()) thread.threadMain()
else await import('./unpack-run.js')
