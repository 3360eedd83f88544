import {createContext, type Context} from '../context.js'
import {markStoreFormat, STORE_FORMAT, storeFormat} from '../store/format.js'

/**
 * The context every front end works in: configuration, store and runtime directories, with the
 * store upgraded to the current format first (once; a store of ctr-ts 0.x keeps working).
 */
export async function openContext(opts: {configFile?: string} = {}): Promise<Context> {
  const ctx = await createContext(opts)
  if (storeFormat(ctx.store) < STORE_FORMAT) {
    const {migrateContainerRecords} = await import('../container/migrate.js')
    await migrateContainerRecords(ctx)
    await markStoreFormat(ctx.store)
  }
  return ctx
}
