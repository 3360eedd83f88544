/*
 * Parser choice (checked on npm, 2026-12): kept this small parser.
 * - dockerfile-ast 0.7.1 (MIT, rcjsuen; the VS Code Dockerfile language server's parser; deps
 *   vscode-languageserver-types/-textdocument): a good editor AST (ranges, comments, keyword
 *   case as written, ARG/ENV lookup for hovers). The builder needs something else: flags split
 *   off per instruction with a per-instruction allow-list, exec-form JSON, 1-based start lines
 *   for docker-like errors, and variable expansion done by the builder with the ARG/ENV scope of
 *   each step (words.ts). Adapting its LSP-shaped API would not be smaller than these ~100
 *   lines, and adds two LSP packages to a CLI. Not clearly better: kept.
 * - docker-file-parser 1.0.7 (MPL-2.0, joyent; last release 2024): a port of docker's old
 *   parser.go returning {name, args, lineno}, args pre-split per command (array/string/map),
 *   while the builder must expand ARG/ENV with each step's scope before splitting words; no
 *   per-instruction flag checks. Not better: kept.
 */
import {BuildError} from '../errors.js'

/**
 * A Dockerfile as instructions: comment lines dropped, line continuations (`\` or the `# escape=`
 * directive's character) joined, leading `--flag=value` options split off. Variables are not
 * expanded here (the builder does it per instruction, with the ARG and ENV values in scope).
 */
export interface Instruction {
  /** Upper case: FROM, RUN, ... */
  cmd: string
  /** The rest of the instruction after its flags, continuations joined. */
  rest: string
  flags: Record<string, string>
  /** The exec form (`["a", "b"]`), when `rest` is a JSON array of strings. */
  json?: string[]
  /** 1-based line where the instruction starts. */
  line: number
  /** The instruction as written (continuations joined), for history and progress lines. */
  text: string
}

export const KNOWN = [
  'FROM', 'RUN', 'CMD', 'LABEL', 'MAINTAINER', 'EXPOSE', 'ENV', 'ADD', 'COPY', 'ENTRYPOINT', 'VOLUME',
  'USER', 'WORKDIR', 'ARG', 'ONBUILD', 'STOPSIGNAL', 'HEALTHCHECK', 'SHELL',
] as const

/** The flags each instruction takes here (others are refused before anything runs). */
const FLAGS: Record<string, string[]> = {
  FROM: ['platform'],
  RUN: ['network'],
  COPY: ['from', 'chown', 'chmod', 'link'],
  ADD: ['chown', 'chmod', 'link'],
  HEALTHCHECK: ['interval', 'timeout', 'start-period', 'start-interval', 'retries'],
}

/** A parse error names the file and the line, as docker's do. */
export class DockerfileError extends BuildError {
  constructor(file: string, line: number, message: string) {
    super(`${file}:${line}: ${message}`)
  }
}

export function parseJsonArray(rest: string): string[] | undefined {
  if (!rest.startsWith('[')) return undefined
  try {
    const parsed: unknown = JSON.parse(rest)
    if (Array.isArray(parsed) && parsed.every((x) => typeof x === 'string')) return parsed
  } catch {
    // not JSON: shell form, as docker does
  }
  return undefined
}

/** Splits `--a=b --c rest` into flags and the rest. */
function splitFlags(body: string): {flags: Record<string, string>; rest: string} {
  const flags: Record<string, string> = {}
  let rest = body
  for (;;) {
    const m = /^--([A-Za-z][\w-]*)(?:=(\S*))?\s*/.exec(rest)
    if (!m) break
    flags[m[1]!] = m[2] ?? 'true'
    rest = rest.slice(m[0].length)
  }
  return {flags, rest}
}

export function parseDockerfile(text: string, file = 'Dockerfile'): Instruction[] {
  const lines = text.replace(/\r\n/g, '\n').split('\n')
  let escape = '\\'
  // Parser directives: only at the very top, before any instruction or other comment.
  for (const l of lines) {
    const m = /^\s*#\s*(\w+)\s*=\s*(\S+)\s*$/.exec(l)
    if (!m) break
    if (m[1]!.toLowerCase() === 'escape') {
      if (m[2] !== '\\' && m[2] !== '`') throw new DockerfileError(file, 1, `invalid escape token ${JSON.stringify(m[2])}: must be \` or \\`)
      escape = m[2]!
    }
  }
  const out: Instruction[] = []
  let i = 0
  while (i < lines.length) {
    const first = lines[i]!
    const start = i + 1
    i++
    if (/^\s*(#|$)/.test(first)) continue
    let joined = first.trimStart()
    while (joined.trimEnd().endsWith(escape) && !(escape === '\\' && joined.trimEnd().endsWith('\\\\') && false)) {
      joined = joined.trimEnd().slice(0, -1)
      // Comment and empty lines inside a continuation are dropped, as docker does.
      while (i < lines.length && /^\s*(#|$)/.test(lines[i]!)) i++
      if (i >= lines.length) break
      joined += lines[i]!
      i++
    }
    const m = /^(\S+)\s*([\s\S]*)$/.exec(joined.trim())
    if (!m) continue
    const cmd = m[1]!.toUpperCase()
    if (!(KNOWN as readonly string[]).includes(cmd)) throw new DockerfileError(file, start, `unknown instruction: ${m[1]}`)
    const body = m[2]!.trim()
    const allowed = FLAGS[cmd]
    const {flags, rest} = allowed ? splitFlags(body) : {flags: {}, rest: body}
    for (const f of Object.keys(flags)) if (!allowed!.includes(f)) throw new DockerfileError(file, start, `${cmd} --${f} is not supported`)
    const json = parseJsonArray(rest)
    out.push({cmd, rest, flags, ...(json ? {json} : {}), line: start, text: `${cmd} ${body}`.trim()})
  }
  if (!out.some((x) => x.cmd === 'FROM')) throw new DockerfileError(file, out[0]?.line ?? 1, 'no FROM instruction')
  const firstReal = out.find((x) => x.cmd !== 'ARG')
  if (firstReal && firstReal.cmd !== 'FROM') throw new DockerfileError(file, firstReal.line, `${firstReal.cmd} before the first FROM (only ARG may come first)`)
  return out
}
