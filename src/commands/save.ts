import {Args, Flags} from '@oclif/core'
import {createWriteStream} from 'node:fs'
import {rename, unlink} from 'node:fs/promises'
import {CtrCommand} from '../base-command.js'
import {saveImages} from '../engine/images.js'
import {UsageError} from '../errors.js'

export default class Save extends CtrCommand {
  static override description = 'Save one or more images to a tar archive (streamed to STDOUT by default)'
  static override strict = false
  static override examples = [
    '<%= config.bin %> save -o busybox.tar busybox',
    '<%= config.bin %> save alpine app:1 | gzip > images.tar.gz',
    '<%= config.bin %> save --format oci-archive -o app.oci.tar app:1',
  ]
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'images to save (name[:tag], id)', required: true}),
  }
  static override flags = {
    output: Flags.string({char: 'o', description: 'write to a file instead of STDOUT'}),
    format: Flags.string({options: ['docker-archive', 'oci-archive'], default: 'docker-archive', description: 'archive format'}),
  }

  async run(): Promise<void> {
    const {argv, flags} = await this.parse(Save)
    const names = argv as string[]
    if (!flags.output && process.stdout.isTTY) throw new UsageError('cowardly refusing to save to a terminal. Use the -o flag or redirect')
    const ctx = await this.context(flags.config)
    const format = flags.format as 'docker-archive' | 'oci-archive'
    if (!flags.output) {
      await saveImages(ctx, names, process.stdout, format)
      return
    }
    // Nothing half-written under the name asked for: a temporary file renamed once complete.
    const tmp = `${flags.output}.tmp-${process.pid}`
    try {
      await saveImages(ctx, names, createWriteStream(tmp, {mode: 0o644}), format)
      await rename(tmp, flags.output)
    } catch (err) {
      await unlink(tmp).catch(() => {})
      throw err
    }
  }
}
