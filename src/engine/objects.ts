/**
 * `inspect` across object kinds, as docker's does: each name is looked up as a container, then
 * as an image (or only as the kind `type` names). Failures are per name: the others are still
 * inspected, in argument order.
 */
import type {Context} from '../context.js'
import {NotFoundError} from '../errors.js'
import * as containers from './containers.js'
import {inspectImages} from './images.js'

export type ObjectType = 'container' | 'image'

export interface InspectObjectsResult {
  items: unknown[]
  errors: unknown[]
}

export async function inspectObjects(ctx: Context, names: readonly string[], type?: ObjectType, opts: {size?: boolean} = {}): Promise<InspectObjectsResult> {
  const items: unknown[] = []
  const errors: unknown[] = []
  for (const name of names) {
    if (type !== 'image') {
      try {
        items.push(await containers.inspect(ctx, name, opts))
        continue
      } catch (err) {
        if (!(err instanceof NotFoundError) || type === 'container') {
          errors.push(err)
          continue
        }
      }
    }
    const {images, errors: imageErrors} = await inspectImages(ctx, [name])
    if (images[0]) items.push(images[0])
    else if (type === 'image') errors.push(imageErrors[0])
    else errors.push(imageErrors[0] instanceof NotFoundError ? new NotFoundError(`no such object: ${name}`) : imageErrors[0])
  }
  return {items, errors}
}
