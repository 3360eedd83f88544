/**
 * docker's flag parser (pflag) lets a single-value flag be given again, the last one winning
 * (`run --name a --name b` names it b); oclif refuses the repetition. Before parsing, the earlier
 * occurrences of each single-value flag (and of each repeated boolean) are dropped from argv.
 * Multiple-value flags (`-e`, `-p`, `--filter`) keep every occurrence. Stops at `--`.
 */
export interface FlagDef {
  type: 'boolean' | 'option'
  char?: string
  aliases?: string[]
  multiple?: boolean
}

export function lastFlagWins(argv: readonly string[], flags: Readonly<Record<string, FlagDef>>): string[] {
  const byToken = new Map<string, {name: string; def: FlagDef}>()
  for (const [name, def] of Object.entries(flags)) {
    byToken.set(`--${name}`, {name, def})
    if (def.char) byToken.set(`-${def.char}`, {name, def})
    for (const alias of def.aliases ?? []) byToken.set(`--${alias}`, {name, def})
  }
  const spans: Array<{name: string; start: number; end: number; keep: boolean}> = []
  let end = argv.length
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!
    if (arg === '--') {
      end = i
      break
    }
    if (!arg.startsWith('-') || arg === '-') continue
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1
    const token = eq === -1 ? (arg.startsWith('--') ? arg : arg.slice(0, 2)) : arg.slice(0, eq)
    const found = byToken.get(token)
    if (!found) continue
    const inlineValue = eq !== -1 || (!arg.startsWith('--') && arg.length > 2)
    const takesNext = found.def.type === 'option' && !inlineValue
    const span = {name: found.name, start: i, end: takesNext ? i + 2 : i + 1, keep: found.def.multiple === true}
    spans.push(span)
    if (takesNext) i++
  }
  const lastOf = new Map<string, number>()
  spans.forEach((s, idx) => lastOf.set(s.name, idx))
  const drop = new Set<number>()
  spans.forEach((s, idx) => {
    if (s.keep || lastOf.get(s.name) === idx) return
    for (let j = s.start; j < s.end && j < end; j++) drop.add(j)
  })
  return argv.filter((_, i) => !drop.has(i))
}
