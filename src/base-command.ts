import {Command, Flags} from '@oclif/core'
import {createContext, type Context} from './context.js'
import {describeError, ExitCodeSignal} from './errors.js'

/**
 * Base of every ctr-ts command: a shared --config flag, a lazily created Context, and the single
 * place where errors become one line on stderr and an exit code.
 */
export abstract class CtrCommand extends Command {
  static override baseFlags = {
    config: Flags.string({description: 'configuration file (overrides discovered ones)', helpGroup: 'GLOBAL'}),
  }

  private contextPromise?: Promise<Context>

  protected context(configFile?: string): Promise<Context> {
    this.contextPromise ??= createContext({configFile})
    return this.contextPromise
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof ExitCodeSignal) {
      process.exitCode = err.code
      return
    }
    // oclif's own parse errors (unknown flag, missing argument) and exit() calls.
    if (err.oclif?.exit !== undefined && !(err as {code?: string}).code?.startsWith?.('E')) {
      if (err.oclif.exit === 0) return
      process.stderr.write(`ctr-ts: ${err.message.split('\n')[0]}\n`)
      process.exitCode = 125
      return
    }
    const {message, exitCode} = describeError(err)
    if (process.env.CTR_TS_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
    process.stderr.write(`ctr-ts: ${message}\n`)
    process.exitCode = exitCode
  }
}
