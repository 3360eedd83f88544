import {Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {describeError, UsageError} from '../errors.js'
import {inspectObjects, type ObjectType} from '../engine/objects.js'
import {formatInspect} from '../format/output.js'

export const INSPECT_FORMAT_FLAG = Flags.string({char: 'f', description: "a Go template run on each object ('{{.State.Running}}'), or json"})

/**
 * `inspect`, `container inspect` and `image inspect`: docker prints what it found (a JSON array,
 * or the template once per object), then one line per name it did not find, and exits 1.
 */
export abstract class InspectBase extends CtrCommand {
  static override strict = false

  protected async inspect(argv: string[], format: string | undefined, type: ObjectType | undefined, configFile: string | undefined, size = false): Promise<void> {
    if (argv.length === 0) throw new UsageError(`"${this.id?.replace(':', ' ') ?? 'inspect'}" requires at least 1 argument`)
    const ctx = await this.context(configFile)
    const {items, errors} = await inspectObjects(ctx, argv, type, {size})
    if (items.length > 0 || format === undefined || format === 'json') process.stdout.write(formatInspect(format, items))
    if (errors.length > 0) {
      for (const err of errors.slice(0, -1)) process.stderr.write(`ctr-ts: ${describeError(err).message}\n`)
      throw errors.at(-1)
    }
  }
}
