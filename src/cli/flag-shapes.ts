import type {FlagShape} from './split-argv.js'

/** The shape (boolean or value-taking, short char, aliases) of oclif flag definitions. */
export function flagShapes(flags: Record<string, {type: string; char?: string; aliases?: string[]}>): Record<string, FlagShape> {
  const out: Record<string, FlagShape> = {}
  for (const [name, def] of Object.entries(flags)) {
    out[name] = {type: def.type === 'boolean' ? 'boolean' : 'option', char: def.char, aliases: def.aliases}
  }
  return out
}
