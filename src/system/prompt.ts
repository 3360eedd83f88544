import {createInterface} from 'node:readline/promises'
import {UsageError} from '../errors.js'

/** Whether we can ask the user anything (stdin and stderr are terminals). */
export function canPrompt(): boolean {
  return Boolean(process.stdin.isTTY && process.stderr.isTTY)
}

/**
 * Asks one question (prompt on stderr) and returns the answer without its newline: edited on
 * the terminal when there is one, else read from stdin as it comes.
 */
export async function promptLine(question: string): Promise<string> {
  const rl = createInterface({input: process.stdin, output: process.stderr, terminal: canPrompt()})
  try {
    return await rl.question(question)
  } finally {
    rl.close()
  }
}

/** Asks for a secret: nothing is echoed. Ctrl-C aborts. */
export function promptHidden(question: string): Promise<string> {
  const stdin = process.stdin
  process.stderr.write(question)
  return new Promise((resolve, reject) => {
    let value = ''
    const wasRaw = stdin.isRaw
    const done = (err?: Error) => {
      stdin.off('data', onData)
      stdin.setRawMode?.(wasRaw)
      stdin.pause()
      process.stderr.write('\n')
      if (err) reject(err)
      else resolve(value)
    }
    const onData = (chunk: Buffer) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') return done()
        if (ch === '\u0003') return done(new UsageError('interrupted'))
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1)
        else value += ch
      }
    }
    stdin.setRawMode?.(true)
    stdin.resume()
    stdin.on('data', onData)
  })
}

/** y/N question; true only for "y" or "yes" (an input that ends without an answer is a no). */
export async function confirm(question: string): Promise<boolean> {
  const answer = await promptLine(`${question} [y/N] `).catch(() => '')
  return /^y(es)?$/i.test(answer.trim())
}

/**
 * The confirmation a destructive `command` asks for without --force: only on a terminal
 * (elsewhere a UsageError says to use -f), so a script never hangs on a question.
 */
export async function confirmOnTerminal(command: string, question: string): Promise<boolean> {
  if (!canPrompt()) throw new UsageError(`${command} needs confirmation: use -f/--force (stdin is not a terminal)`)
  return confirm(question)
}

/** All of stdin as text (for --password-stdin), with the trailing newline removed. */
export async function readStdin(): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '')
}
