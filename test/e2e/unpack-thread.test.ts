/**
 * The unpacker's unit tests (test/unit/unpack.test.ts: content, path safety, end of archive,
 * formats refused, xattrs, exact times) again, with each layer's entries applied by the worker
 * thread of the built unpacking program (dist/layer/unpack-main.js), as `ctr-ts pull` runs it.
 */
import {existsSync} from 'node:fs'
import {fileURLToPath} from 'node:url'

const script = fileURLToPath(new URL('../../dist/layer/unpack-main.js', import.meta.url))
if (!existsSync(script)) throw new Error(`${script} is missing: run npm run build first`)
process.env.CTR_TS_TEST_UNPACK_THREAD = script
await import('../unit/unpack.test.js')
