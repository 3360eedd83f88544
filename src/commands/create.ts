import {Args} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {createFlags, toCreateOptions} from '../cli/container-flags.js'
import {flagShapes} from '../cli/flag-shapes.js'
import {expandShortClusters, splitAtPositional} from '../cli/split-argv.js'
import {pullReporter} from '../cli/terminal.js'
import * as containers from '../engine/containers.js'

export default class Create extends CtrCommand {
  static override description = 'Create a container without starting it; the image is pulled first when missing'
  static override aliases = ['container:create']
  static override examples = [
    '<%= config.bin %> create --name box alpine sleep 300',
    '<%= config.bin %> start -a box',
    '<%= config.bin %> create --cidfile /tmp/box.cid --stop-signal SIGINT --stop-timeout 30 alpine sleep 300',
  ]
  static override strict = false
  static override args = {
    image: Args.string({ignoreStdin: true, description: 'image', required: true}),
    command: Args.string({ignoreStdin: true, description: 'command and arguments'}),
  }
  static override flags = createFlags

  async run(): Promise<void> {
    const shapes = flagShapes({...Create.flags, ...CtrCommand.baseFlags})
    const {own, rest} = splitAtPositional(this.argv, shapes)
    const {flags, args} = await this.parse(Create, expandShortClusters(own, shapes))
    const ctx = await this.context(flags.config)
    const pull = pullReporter()
    let rec
    try {
      rec = await containers.create(ctx, toCreateOptions(flags, args.image, rest), pull.events)
    } finally {
      pull.finish()
    }
    this.log(rec.id)
  }
}
