/**
 * docker compose takes the project flags before the subcommand (`compose -f a.yml -p x up -d`);
 * oclif finds a command by its leading words only. So those flags are moved after the
 * subcommand, where every `compose` subcommand declares them (compose/model/flags.ts).
 * docker compose's display flags (--ansi, --progress, --parallel, --compatibility) are accepted
 * there and dropped: ctr-ts prints plain progress and works one object at a time anyway.
 */
const WITH_VALUE = new Set(['-f', '--file', '-p', '--project-name', '--project-directory', '--env-file', '--profile', '--config'])
const DISPLAY_WITH_VALUE = new Set(['--ansi', '--progress', '--parallel'])
const LONG: Record<string, string> = {'-f': '--file', '-p': '--project-name'}
const PREFIXES = ['--file=', '--project-name=', '--project-directory=', '--env-file=', '--profile=', '--config=']

export function hoistComposeFlags(argv: readonly string[]): string[] {
  if (argv[0] !== 'compose') return [...argv]
  const moved: string[] = []
  let i = 1
  while (i < argv.length) {
    const a = argv[i]!
    // docker compose's display flags: ctr-ts's progress is always plain, so they change nothing
    if (DISPLAY_WITH_VALUE.has(a) && i + 1 < argv.length) {
      i += 2
      continue
    }
    if (DISPLAY_WITH_VALUE.has(a.split('=')[0]!) || a === '--compatibility') {
      i++
      continue
    }
    // long forms after the subcommand: `logs -f` (follow) and `rm -f` (force) have their own -f
    if (WITH_VALUE.has(a) && i + 1 < argv.length) {
      moved.push(LONG[a] ?? a, argv[i + 1]!)
      i += 2
    } else if (PREFIXES.some((p) => a.startsWith(p))) {
      moved.push(a)
      i++
    } else if (/^-[fp].+/.test(a)) {
      moved.push(`${LONG[a.slice(0, 2)]}=${a.slice(2).replace(/^=/, '')}`)
      i++
    } else break
  }
  // nothing left but flags (`compose -f x` alone): oclif says what is missing
  if (i >= argv.length || argv[i]!.startsWith('-')) return [...argv]
  return ['compose', argv[i]!, ...moved, ...argv.slice(i + 1)]
}
