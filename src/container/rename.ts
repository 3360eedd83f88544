import type {Context} from '../context.js'
import {ConflictError} from '../errors.js'
import {reserveName, releaseName} from './names.js'
import {type ContainerRecord, saveRecord} from './record.js'

/**
 * docker rename: the new name is reserved first (atomically, so it cannot be taken twice), the
 * record rewritten, then the old name released. A running container keeps running.
 */
export async function renameContainer(ctx: Context, rec: ContainerRecord, newName: string): Promise<ContainerRecord> {
  const name = newName.replace(/^\//, '')
  if (name === rec.name) throw new ConflictError(`renaming a container with the same name as its current name`)
  await reserveName(ctx, name, rec.id)
  const renamed = {...rec, name}
  try {
    await saveRecord(ctx, renamed)
  } catch (err) {
    await releaseName(ctx, name, rec.id)
    throw err
  }
  await releaseName(ctx, rec.name, rec.id)
  return renamed
}
