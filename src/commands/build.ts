import {Args, Flags} from '@oclif/core'
import {CtrCommand} from '../base-command.js'
import {buildImage} from '../engine/images.js'
import {BuildError, CtrError, UsageError} from '../errors.js'

function keyValues(list: string[] | undefined, flag: string, env: NodeJS.ProcessEnv): Record<string, string> {
  const out: Record<string, string> = {}
  for (const item of list ?? []) {
    const eq = item.indexOf('=')
    if (eq === 0) throw new UsageError(`--${flag} ${JSON.stringify(item)}: needs KEY=VALUE`)
    if (eq < 0) {
      // docker: --build-arg KEY takes the value from the environment
      if (flag === 'build-arg' && env[item] !== undefined) out[item] = env[item]!
      else if (flag !== 'build-arg') out[item] = ''
      continue
    }
    out[item.slice(0, eq)] = item.slice(eq + 1)
  }
  return out
}

export default class Build extends CtrCommand {
  static override description = 'Build an image from a Dockerfile (or Containerfile), without root'
  static override examples = [
    '<%= config.bin %> build -t 127.0.0.1:5000/app:1 .',
    '<%= config.bin %> build -f docker/Dockerfile.prod --build-arg VERSION=2 --target runtime -t app:2 .',
    '<%= config.bin %> build -q --iidfile id.txt --no-cache --network none .',
    '<%= config.bin %> build --platform linux/amd64 -t app:amd64 .',
  ]
  static override args = {
    context: Args.string({ignoreStdin: true, description: 'build context directory', required: true}),
  }
  static override flags = {
    tag: Flags.string({char: 't', multiple: true, multipleNonGreedy: true, description: 'name the image (REPOSITORY[:TAG]); repeatable'}),
    file: Flags.string({char: 'f', description: 'the Dockerfile (default: CONTEXT/Dockerfile, else CONTEXT/Containerfile)'}),
    'build-arg': Flags.string({multiple: true, multipleNonGreedy: true, description: 'set a build-time variable (KEY=VALUE)'}),
    target: Flags.string({description: 'build this stage (and the stages it needs), not the last'}),
    'no-cache': Flags.boolean({description: 'do not use the build cache'}),
    pull: Flags.boolean({description: 'always pull the base images'}),
    label: Flags.string({multiple: true, multipleNonGreedy: true, description: 'set a label on the image (KEY=VALUE)'}),
    network: Flags.string({description: 'network of RUN steps: none, host or default'}),
    quiet: Flags.boolean({char: 'q', description: 'print only the image id'}),
    iidfile: Flags.string({description: 'write the image id to this file'}),
    platform: Flags.string({description: 'build for this platform (os/arch[/variant]); RUN steps need this machine\'s', env: 'DOCKER_DEFAULT_PLATFORM'}),
  }

  async run(): Promise<void> {
    const {args, flags} = await this.parse(Build)
    try {
      if (flags.network && !['none', 'host', 'default', 'slirp4netns'].includes(flags.network)) throw new UsageError(`--network ${flags.network}: use none, host or default`)
      const ctx = await this.context(flags.config)
      const result = await buildImage(ctx, {
        contextDir: args.context,
        ...(flags.file ? {file: flags.file} : {}),
        tags: flags.tag ?? [],
        buildArgs: keyValues(flags['build-arg'], 'build-arg', process.env),
        ...(flags.target ? {target: flags.target} : {}),
        noCache: flags['no-cache'],
        pull: flags.pull,
        labels: keyValues(flags.label, 'label', process.env),
        ...(flags.network && flags.network !== 'default' ? {network: flags.network} : {}),
        ...(flags.quiet ? {} : {progress: process.stderr}),
        ...(flags.iidfile ? {iidfile: flags.iidfile} : {}),
        ...(flags.platform ? {platform: flags.platform} : {}),
      })
      this.log(result.id)
    } catch (err) {
      // build is not run/create/exec: every failure exits 1, as docker build does
      if (err instanceof CtrError && !(err instanceof BuildError)) throw new BuildError(err.message, {cause: err})
      throw err
    }
  }
}
