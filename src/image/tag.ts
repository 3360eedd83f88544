import {UsageError} from '../errors.js'
import type {ImageRecord} from '../oci/types.js'
import type {StoreLayout} from '../paths.js'
import {parseReference} from '../reference/parse.js'
import {resolveImage, writeImageRecord} from '../store/images.js'

/**
 * `tag SOURCE TARGET`: another reference to the same image (a record naming the same manifest,
 * config and layers). TARGET without a tag is `:latest`; a digest target is refused, as docker does.
 */
export async function tagImage(store: StoreLayout, source: string, target: string): Promise<{image: ImageRecord; ref: string; familiar: string}> {
  const image = await resolveImage(store, source)
  const ref = parseReference(target)
  if (ref.digest) throw new UsageError(`refusing to create a tag with a digest reference: ${target}`)
  await writeImageRecord(store, {...image, ref: ref.toString()})
  return {image, ref: ref.toString(), familiar: ref.familiar()}
}
