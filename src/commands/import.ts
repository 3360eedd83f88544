import {Args, Flags} from '@oclif/core'
import {createReadStream} from 'node:fs'
import {access} from 'node:fs/promises'
import {Readable} from 'node:stream'
import {CtrCommand} from '../base-command.js'
import {importImage} from '../engine/images.js'
import {NotFoundError, RegistryError, UsageError} from '../errors.js'

export default class Import extends CtrCommand {
  static override description = 'Import the contents of a tarball (file, URL or - for STDIN) to create a filesystem image'
  static override examples = [
    '<%= config.bin %> import rootfs.tar myimage:1',
    'cat rootfs.tar.gz | <%= config.bin %> import -c "CMD [\\"/bin/sh\\"]" - myimage:1',
    '<%= config.bin %> import http://example.com/rootfs.tar myimage:1',
  ]
  static override args = {
    source: Args.string({ignoreStdin: true, description: 'tar file, http(s) URL, or - for STDIN', required: true}),
    image: Args.string({ignoreStdin: true, description: 'name of the new image (REPOSITORY[:TAG])'}),
  }
  static override flags = {
    change: Flags.string({char: 'c', multiple: true, multipleNonGreedy: true, description: 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL)'}),
    message: Flags.string({char: 'm', description: 'commit message (the history comment)'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Import)
    if (!args.image) throw new UsageError('import: give the new image a name (ctr-ts keeps only named images): import SOURCE REPOSITORY[:TAG]')
    let input: Readable
    if (args.source === '-') input = process.stdin
    else if (/^https?:\/\//i.test(args.source)) {
      const res = await fetch(args.source).catch((err: Error) => {
        throw new RegistryError(`import: cannot fetch ${args.source}: ${(err.cause as Error | undefined)?.message ?? err.message}`)
      })
      if (!res.ok || !res.body) throw new RegistryError(`import: ${args.source} returned ${res.status}`)
      input = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream)
    } else {
      await access(args.source).catch(() => {
        throw new NotFoundError(`open ${args.source}: no such file or directory`)
      })
      input = createReadStream(args.source)
    }
    const ctx = await this.context(flags.config)
    const image = await importImage(ctx, input, {ref: args.image, changes: flags.change, message: flags.message})
    this.log(image.id)
  }
}
