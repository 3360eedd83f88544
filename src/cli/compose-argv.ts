/**
 * docker compose takes the project flags before the subcommand (`compose -f a.yml -p x up -d`);
 * oclif finds a command by its leading words only. So those flags are moved after the
 * subcommand, where every `compose` subcommand declares them (compose/model/flags.ts).
 */
const WITH_VALUE = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--config'])
const PREFIXES = ['--file=', '--project-name=', '--project-directory=', '--env-file=', '--profile=', '--config=']

export function hoistComposeFlags(argv: readonly string[]): string[] {
  if (argv[0] !== 'compose') return [...argv]
  const moved: string[] = []
  let i = 1
  while (i < argv.length) {
    const a = argv[i]!
    if (WITH_VALUE.has(a) && i + 1 < argv.length) {
      moved.push(a, argv[i + 1]!)
      i += 2
    } else if (PREFIXES.some((p) => a.startsWith(p)) || /^-[fp].+/.test(a)) {
      moved.push(a)
      i++
    } else break
  }
  // nothing moved, or only flags (`compose -f x` alone: oclif says what is missing)
  if (moved.length === 0 || i >= argv.length || argv[i]!.startsWith('-')) return [...argv]
  return ['compose', argv[i]!, ...moved, ...argv.slice(i + 1)]
}
