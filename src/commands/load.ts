import {Flags} from '@oclif/core'
import {createReadStream} from 'node:fs'
import {access} from 'node:fs/promises'
import {CtrCommand} from '../base-command.js'
import {loadImages} from '../engine/images.js'
import {NotFoundError, UsageError} from '../errors.js'
import {parseReference} from '../reference/parse.js'

export default class Load extends CtrCommand {
  static override description = 'Load images from a tar archive (docker-archive or oci-archive, optionally gzip-compressed) or STDIN'
  static override examples = ['<%= config.bin %> load -i busybox.tar', 'gunzip -c images.tar.gz | <%= config.bin %> load', '<%= config.bin %> load -q < app.oci.tar']
  static override flags = {
    input: Flags.string({char: 'i', description: 'read from a file instead of STDIN'}),
    quiet: Flags.boolean({char: 'q', description: 'print only the names loaded'}),
  }

  async run(): Promise<void> {
    const {flags} = await this.parse(Load)
    if (!flags.input && process.stdin.isTTY) throw new UsageError('requested load from stdin, but stdin is empty')
    if (flags.input) await access(flags.input).catch(() => {
      throw new NotFoundError(`open ${flags.input}: no such file or directory`)
    })
    const ctx = await this.context(flags.config)
    const input = flags.input ? createReadStream(flags.input) : process.stdin
    const result = await loadImages(ctx, input)
    for (const ref of result.refs) this.log(`Loaded image: ${parseReference(ref).familiar()}`)
    for (const id of result.untagged) process.stderr.write(`warning: image ${id} has no name in the archive and was not kept\n`)
  }
}
