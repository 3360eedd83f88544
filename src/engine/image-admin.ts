/** More of the image facade: tag and history. */
import type {Context} from '../context.js'
import {recordImageEvent} from '../events/journal.js'
import {type HistoryItem, imageHistory} from '../image/history.js'
import {tagImage} from '../image/tag.js'
import {resolveImage} from '../store/images.js'

export type {HistoryItem}

/** docker tag: TARGET names the image SOURCE names. */
export async function tag(ctx: Context, source: string, target: string): Promise<void> {
  const {image, familiar} = await tagImage(ctx.store, source, target)
  recordImageEvent(ctx.store, 'tag', image.id, {name: familiar})
}

/** docker history: the image's build steps, newest first. */
export async function history(ctx: Context, name: string): Promise<HistoryItem[]> {
  return imageHistory(ctx.store, await resolveImage(ctx.store, name))
}
