/**
 * WWW-Authenticate parsing (RFC 7235): one header may hold several challenges, each a scheme
 * followed by comma-separated auth-params whose values may be quoted strings containing commas,
 * escaped quotes or equals signs.
 */
export interface Challenge {
  /** Lowercased scheme: "bearer", "basic", ... */
  scheme: string
  /** Lowercased parameter names; values unquoted. */
  params: Record<string, string>
}

const TOKEN = /[!#$%&'*+\-.^_`|~0-9A-Za-z]+/y
const SPACE = /[ \t]*/y

export function parseChallenges(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return []
  if (Array.isArray(header)) return header.flatMap((h) => parseChallenges(h))
  const out: Challenge[] = []
  let i = 0
  const s = header
  const skipSpace = () => {
    SPACE.lastIndex = i
    SPACE.exec(s)
    i = SPACE.lastIndex
  }
  const token = (): string | undefined => {
    TOKEN.lastIndex = i
    const m = TOKEN.exec(s)
    if (!m) return undefined
    i = TOKEN.lastIndex
    return m[0]
  }
  const quoted = (): string => {
    // s[i] === '"'
    i++
    let value = ''
    while (i < s.length && s[i] !== '"') {
      if (s[i] === '\\' && i + 1 < s.length) i++
      value += s[i]
      i++
    }
    i++ // closing quote (or end)
    return value
  }

  let current: Challenge | undefined
  while (i < s.length) {
    skipSpace()
    if (s[i] === ',') {
      i++
      continue
    }
    const word = token()
    if (word === undefined) {
      i++ // junk character: skip it
      continue
    }
    skipSpace()
    if (s[i] === '=' && current) {
      // auth-param: name=value (token68 values like "abc==" handled below)
      i++
      skipSpace()
      let value: string
      if (s[i] === '"') value = quoted()
      else {
        const m = /[^,\s]*/y
        m.lastIndex = i
        value = m.exec(s)?.[0] ?? ''
        i += value.length
      }
      current.params[word.toLowerCase()] = value
      continue
    }
    // A new challenge: scheme [token68 | params]
    current = {scheme: word.toLowerCase(), params: {}}
    out.push(current)
    skipSpace()
    // token68 (e.g. "Negotiate abc==") when what follows is not a name=value parameter
    const save = i
    const t68 = /[A-Za-z0-9\-._~+/]+=*/y
    t68.lastIndex = i
    const m = t68.exec(s)
    if (m && !isParamStart(s, i)) {
      SPACE.lastIndex = t68.lastIndex
      SPACE.exec(s)
      const next = s[SPACE.lastIndex]
      if (next === undefined || next === ',') {
        current.params['token68'] = m[0]
        i = SPACE.lastIndex
        continue
      }
    }
    i = save
  }
  return out
}

/** At `i`: token, optional spaces, '=' not followed by another '=' (so not token68 padding). */
function isParamStart(s: string, i: number): boolean {
  return /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+[ \t]*=(?!=)/.test(s.slice(i))
}

/** The Bearer challenge, if the registry offered one. */
export function bearerChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'bearer')
}

export function basicChallenge(challenges: Challenge[]): Challenge | undefined {
  return challenges.find((c) => c.scheme === 'basic')
}
