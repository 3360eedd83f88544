import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {commitContainer} from '../engine/containers.js'
import {UsageError} from '../errors.js'

export default class Commit extends CtrCommand {
  static override description = "Create a new image from a container's changes"
  static override examples = [
    '<%= config.bin %> commit web 127.0.0.1:5000/app:2',
    '<%= config.bin %> commit -c "CMD [\\"httpd\\", \\"-f\\"]" -c "EXPOSE 80" -m "add www" -a "Jane <jane@example.com>" web app:2',
  ]
  static override args = {
    container: Args.string({ignoreStdin: true, description: 'container name or id', required: true}),
    image: Args.string({ignoreStdin: true, description: 'name of the new image (REPOSITORY[:TAG])'}),
  }
  static override flags = {
    change: Flags.string({char: 'c', multiple: true, multipleNonGreedy: true, description: 'apply a Dockerfile instruction (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, WORKDIR, VOLUME, STOPSIGNAL)'}),
    message: Flags.string({char: 'm', description: 'commit message (the history comment)'}),
    author: Flags.string({char: 'a', description: 'author (e.g. "Jane <jane@example.com>")'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Commit)
    if (!args.image) throw new UsageError('commit: give the new image a name (ctr-ts keeps only named images): commit CONTAINER REPOSITORY[:TAG]')
    const ctx = await this.context(flags.config)
    const image = await commitContainer(ctx, args.container, {ref: args.image, changes: flags.change, message: flags.message, author: flags.author})
    this.log(image.id)
  }
}
