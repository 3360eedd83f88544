/**
 * Docker stops reading its own flags at the image name: `run -it alpine sh -c 'ls -l'` passes
 * `-c` and `ls -l` to the container. oclif would try to parse them, so commands that take a
 * command line split argv here first: everything up to and including the `positionals`-th
 * positional argument is ours, the rest belongs to the container.
 */
export interface FlagShape {
  type: 'boolean' | 'option'
  char?: string
  aliases?: string[]
}

export function splitAtPositional(
  argv: string[],
  flags: Record<string, FlagShape>,
  positionals = 1,
): {own: string[]; rest: string[]} {
  const takesValue = new Map<string, boolean>()
  for (const [name, def] of Object.entries(flags)) {
    takesValue.set(`--${name}`, def.type === 'option')
    if (def.type === 'boolean') takesValue.set(`--no-${name}`, false)
    if (def.char) takesValue.set(`-${def.char}`, def.type === 'option')
    for (const alias of def.aliases ?? []) takesValue.set(`--${alias}`, def.type === 'option')
  }
  let seen = 0
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') return {own: [...argv.slice(0, i), ...argv.slice(i + 1, i + 1 + positionals - seen)], rest: argv.slice(i + 1 + positionals - seen)}
    if (arg.startsWith('--')) {
      if (!arg.includes('=') && takesValue.get(arg)) i++
      continue
    }
    if (arg.startsWith('-') && arg.length > 1) {
      // A cluster like -it or -e X or -eX=1: the first option-taking char consumes the rest or the next arg.
      for (let j = 1; j < arg.length; j++) {
        if (takesValue.get(`-${arg[j]}`)) {
          if (j === arg.length - 1) i++
          break
        }
      }
      continue
    }
    seen++
    if (seen === positionals) return {own: argv.slice(0, i + 1), rest: argv.slice(i + 1)}
  }
  return {own: argv, rest: []}
}

/** oclif's short flags must stand alone: `-it` becomes `-i -t`, `-eA=1` becomes `-e A=1`. */
export function expandShortClusters(argv: string[], flags: Record<string, FlagShape>): string[] {
  const byChar = new Map<string, FlagShape>()
  for (const def of Object.values(flags)) if (def.char) byChar.set(def.char, def)
  const out: string[] = []
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      out.push(...argv.slice(i))
      break
    }
    if (!arg.startsWith('-') || arg.startsWith('--') || arg.length <= 2) {
      out.push(arg)
      continue
    }
    const expanded: string[] = []
    let valid = true
    for (let j = 1; j < arg.length; j++) {
      const def = byChar.get(arg[j]!)
      if (!def) {
        valid = false
        break
      }
      expanded.push(`-${arg[j]}`)
      if (def.type === 'option') {
        const value = arg.slice(j + 1)
        if (value) expanded.push(value.startsWith('=') ? value.slice(1) : value)
        break
      }
    }
    // Not a cluster of our flags (a negative number, say): leave it to the parser.
    out.push(...(valid ? expanded : [arg]))
  }
  return out
}
