import {Command, Config, Flags, type Interfaces} from '@oclif/core'
import {type FlagDef, lastFlagWins} from './cli/last-flag-wins.js'
import {format, inspect} from 'node:util'
import type {Context} from './context.js'
import {commandExitCode, describeError, ExitCodeSignal} from './errors.js'
import {trace} from './trace.js'

/**
 * Base of every ctr-ts command: a shared --config flag, a lazily created Context, and the single
 * place where errors become one line on stderr and an exit code.
 */
export abstract class CtrCommand extends Command {
  static override baseFlags = {
    config: Flags.string({description: 'configuration file (overrides discovered ones)', helpGroup: 'GLOBAL'}),
  }

  private contextPromise?: Promise<Context>

  /**
   * oclif's Config.runCommand calls this with its loaded Config, and oclif's own version loads
   * that configuration a second time (plugins, platform, shell, theme file) in case the command
   * came from another copy of oclif. Ours share the CLI's copy: the Config is used as it is.
   */
  static override async run<T extends Command>(this: new (argv: string[], config: Config) => T, argv?: string[], opts?: Interfaces.LoadOptions): Promise<ReturnType<T['run']>> {
    if (!(opts instanceof Config)) return Command.run.call(this, argv, opts) as Promise<ReturnType<T['run']>>
    const cmd = new this(argv ?? process.argv.slice(2), opts)
    return (cmd as unknown as {_run(): Promise<ReturnType<T['run']>>})._run()
  }

  protected context(configFile?: string): Promise<Context> {
    // Loaded here, not at the top: commands that need no context (version, help) skip cosmiconfig.
    this.contextPromise ??= trace.phase('config', async () => (await import('./engine/open.js')).openContext({configFile}))
    return this.contextPromise
  }

  /** Parses as oclif does, after dropping earlier occurrences of single-value flags (docker: the last one wins). */
  protected override async parse<F extends Interfaces.OutputFlags<Interfaces.FlagInput>, B extends Interfaces.OutputFlags<Interfaces.FlagInput>, A extends Interfaces.OutputArgs<Interfaces.ArgInput>>(
    options?: Interfaces.Input<F, B, A>,
    argv: string[] = this.argv,
  ): Promise<Interfaces.ParserOutput<F, B, A>> {
    const defs = {...(options?.baseFlags ?? {}), ...(options?.flags ?? {})} as Record<string, FlagDef>
    return super.parse(options, lastFlagWins(argv, defs))
  }

  /** oclif's log, without loading oclif's whole ux module (spinners, colors, prompts) for one console.log. */
  override log(message: unknown = '', ...args: unknown[]): void {
    if (this.jsonEnabled()) return
    const text = typeof message === 'string' ? message : inspect(message)
    console.log(text ? format(text, ...args) : format(...args))
  }

  // CTR_TS_TRACE=1: the start-up ends when the command starts; the command ends in finally().
  override async init(): Promise<void> {
    trace.mark('oclif: config, find and load the command')
    await super.init()
  }

  protected override async finally(err: Error | undefined): Promise<unknown> {
    trace.mark(`command ${this.id ?? ''}`.trimEnd())
    return super.finally(err)
  }

  protected override async catch(err: Error & {exitCode?: number; oclif?: {exit?: number}}): Promise<unknown> {
    if (err instanceof ExitCodeSignal) {
      process.exitCode = err.code
      return
    }
    // oclif's own parse errors (unknown flag, missing argument) and exit() calls.
    if (err.oclif?.exit !== undefined && !(err as {code?: string}).code?.startsWith?.('E')) {
      // Reported here: without this oclif adds an "UnparsedCommand" warning when NODE_ENV is
      // development or test.
      this.parsed = true
      if (err.oclif.exit === 0) return
      process.stderr.write(`ctr-ts: ${oneLine(err.message)} (see ctr-ts ${this.id ?? ''} --help)\n`.replace(' ctr-ts  --help', ' ctr-ts --help'))
      // docker: a flag its parser refuses is 125 for every command; a wrong argument count is the
      // command's own error (1 outside run/create/exec).
      const flagError = /^(Nonexistent flags?:|Expected --|Parsing --|Flag --|--\S+ )/.test(err.message)
      process.exitCode = flagError ? 125 : commandExitCode(125, this.id)
      return
    }
    const {message, exitCode} = describeError(err)
    if (process.env.CTR_TS_DEBUG && err.stack) process.stderr.write(`${err.stack}\n`)
    process.stderr.write(`ctr-ts: ${message}\n`)
    process.exitCode = commandExitCode(exitCode, this.id)
  }
}

/**
 * oclif's parse errors span lines ("Missing 1 required arg:\nimage  image to run\nSee more help
 * with --help"): one line for stderr, `name (description)` for the argument lines, without the
 * "Note:" oclif adds about flags taking several values (ctr-ts splits argv itself).
 */
export function oneLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim())
  const note = lines.findIndex((l) => l.startsWith('Note:')) // oclif's advice on multiple-value flags: not ours
  return (note === -1 ? lines : lines.slice(0, note))
    .filter((l) => l && !/^See more help with/i.test(l))
    .map((l) => l.replace(/^(\S+)\s{2,}(.+)$/, '$1 ($2)'))
    .join(' ')
    .replace(/\s+/g, ' ')
}
