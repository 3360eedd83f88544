import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../../base-command.js'
import * as volumes from '../../engine/volumes.js'

export default class VolumeCreate extends CtrCommand {
  static override summary = 'Create a volume'
  static override description = [
    'Creates a named volume in the store (a random name when NAME is left out). A volume of that name that exists already is kept as it is.',
    'Driver options (-o) of the local driver: type=tmpfs with o=size=64m,mode=1777 (a tmpfs for each container that mounts it),',
    'or type=none,o=bind,device=/host/path (a host directory).',
  ].join('\n')
  static override examples = [
    '<%= config.bin %> volume create pgdata',
    '<%= config.bin %> volume create --label team=db pgdata',
    '<%= config.bin %> volume create -o type=tmpfs -o o=size=64m scratch',
  ]
  static override args = {name: Args.string({description: 'volume name'})}
  static override flags = {
    driver: Flags.string({char: 'd', description: 'volume driver (only local)', default: 'local'}),
    label: Flags.string({description: 'set a label KEY=VALUE', multiple: true, multipleNonGreedy: true}),
    opt: Flags.string({char: 'o', description: 'driver option KEY=VALUE (type, device, o)', multiple: true, multipleNonGreedy: true}),
    name: Flags.string({description: 'volume name (instead of the argument)'}),
  }

  async run(): Promise<void> {
    const {flags, args} = await this.parse(VolumeCreate)
    const ctx = await this.context(flags.config)
    const name = await volumes.create(ctx, {name: args.name ?? flags.name, driver: flags.driver, labels: flags.label, options: flags.opt})
    this.log(name)
  }
}
