import {CommandNotFoundError, CommandNotInvokableError, RuntimeError} from '../errors.js'

/**
 * What the OCI runtime (runc, crun) says when it fails, and what that means for the exit code.
 * The one place where the runtime's error text is read: the shim passes the runtime's last
 * stderr line through verbatim, `runtime exec` writes to our pipe or to its JSON log, and all of
 * it is unwrapped and classified here.
 */

/**
 * The message of one line of runtime output, or undefined when the line is not an error:
 * - runc's logrus text: `time="..." level=error msg="runc create failed: ..."`;
 * - runc's JSON log (`--log-format json`): `{"level":"error","msg":"...","time":"..."}`;
 * - plain lines from crun (`crun: ...`), runc's own prefix, or an exec failure.
 */
export function runtimeErrorMessage(line: string): string | undefined {
  const text = line.trim()
  if (!text) return undefined
  if (text.startsWith('{')) {
    try {
      const entry = JSON.parse(text) as {level?: unknown; msg?: unknown}
      if ((entry.level === 'error' || entry.level === 'fatal') && typeof entry.msg === 'string') return entry.msg
      return undefined
    } catch {
      // not JSON: fall through
    }
  }
  const m = /level=(?:error|fatal) msg="((?:[^"\\]|\\.)*)"/.exec(text)
  if (m) return m[1]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' || c === 't' ? ' ' : c))
  if (/level=(?:debug|info|warning)\b/.test(text)) return undefined
  if (/^(runc|crun|exec failed|OCI runtime)\b/.test(text) || /executable file not found/.test(text)) return text
  return undefined
}

/** The last error message in a block of runtime output (a log file, a captured stderr). */
export function lastRuntimeError(text: string): string | undefined {
  let found: string | undefined
  for (const line of text.split('\n')) found = runtimeErrorMessage(line) ?? found
  return found
}

/**
 * The message to show for what the shim reported (`error LINE` on its sync fd, an ERROR frame):
 * the runtime's line unwrapped, or the shim's own words when it is not a runtime line.
 */
export function shimErrorMessage(report: string): string {
  const text = report.trim()
  // The shim's own messages (mount failures) may end with the runtime-style line it captured.
  const wrapped = /^(.*?: )?(time="[^"]*" level=\S+ msg=.*)$/.exec(text)
  if (wrapped) return `${wrapped[1] ?? ''}${runtimeErrorMessage(wrapped[2]!) ?? wrapped[2]}`
  return runtimeErrorMessage(text) ?? (text || 'unknown error')
}

export type RuntimeFailure = RuntimeError | CommandNotFoundError | CommandNotInvokableError

/**
 * Maps a runtime's error message to the error class that decides the exit code, like docker:
 * 127 when the container command does not exist, 126 when it cannot be executed, 125 otherwise.
 * Only a failure of the final exec of the process counts: a missing bundle file is ours (125).
 */
export function classifyRuntimeError(message: string): RuntimeFailure {
  const execError = /(?:^|[\s:])exec(?:: "[^"]*")?[^\n]*?:\s*(.*)$/i.exec(message)
  const tail = execError?.[1] ?? message
  if (/executable file (?:`[^`]*` )?not found/i.test(message) || (execError && /no such file or directory/i.test(tail))) {
    return new CommandNotFoundError(message)
  }
  if (execError && /permission denied|is a directory|not executable|exec format error/i.test(tail)) {
    return new CommandNotInvokableError(message)
  }
  return new RuntimeError(message)
}
