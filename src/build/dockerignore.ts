import {matchesGlob, normalize} from 'node:path/posix'

/**
 * `.dockerignore` as docker reads it: one pattern a line, `#` comments, a leading `!` makes an
 * exception, patterns are cleaned paths relative to the context (a leading `/` dropped), `*` and
 * `?` do not cross `/`, `**` matches any number of directories, and the last matching pattern
 * decides. A pattern that matches a directory excludes everything under it.
 */
interface Rule {
  pattern: string
  exclude: boolean
}

export function parseDockerignore(text: string): Rule[] {
  const rules: Rule[] = []
  for (const raw of text.split(/\r?\n/)) {
    let line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    let exclude = true
    if (line.startsWith('!')) {
      exclude = false
      line = line.slice(1).trim()
    }
    let pattern = normalize(line).replace(/^\/+/, '').replace(/\/+$/, '')
    if (pattern === '' || pattern === '.') pattern = '**'
    rules.push({pattern, exclude})
  }
  return rules
}

function matches(pattern: string, path: string): boolean {
  if (matchesGlob(path, pattern)) return true
  // A pattern naming a directory also covers what is under it.
  const parts = path.split('/')
  for (let i = parts.length - 1; i > 0; i--) if (matchesGlob(parts.slice(0, i).join('/'), pattern)) return true
  return false
}

/** Is `path` (relative to the context, `/`-separated) left out of the build context? */
export function isIgnored(rules: Rule[], path: string): boolean {
  let ignored = false
  for (const r of rules) if (matches(r.pattern, path)) ignored = r.exclude
  return ignored
}

export type DockerignoreRules = Rule[]
