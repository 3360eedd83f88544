/**
 * Every failure ctr-ts reports is one of these classes. The exit code of each is decided here,
 * in one place, the way docker does it: 125 for ctr-ts's own errors, 126 when the container
 * command cannot be invoked, 127 when it is not found. Those three belong to run/create/exec:
 * every other command exits 1 on an error (commandExitCode below). The base command prints
 * `message` as one line on stderr and exits with that code; no stack trace ever reaches the user.
 */
export class CtrError extends Error {
  readonly exitCode: number = 125
  constructor(message: string, options?: {cause?: unknown}) {
    super(message, options)
    this.name = new.target.name
  }
}

/** Wrong flags, arguments or references. */
export class UsageError extends CtrError {}
/** An invalid image reference. */
export class ReferenceError extends UsageError {}
/** A --format Go template that does not parse or cannot be executed on the data. */
export class TemplateError extends UsageError {}
/** Configuration file or value that does not validate. */
export class ConfigError extends CtrError {}

/** Image, tag, container or blob that does not exist. */
export class NotFoundError extends CtrError {}
/** Something already exists (container name, ...). */
export class ConflictError extends CtrError {}

/** Registry errors. */
export class RegistryError extends CtrError {}
export class UnauthorizedError extends RegistryError {}
export class UnreachableError extends RegistryError {}
export class TlsError extends RegistryError {}
export class TimeoutError extends RegistryError {}
export class UnsupportedMediaTypeError extends RegistryError {}
/**
 * Plain HTTP sent to a server that speaks only HTTPS (Go's servers answer a bare
 * `400 Client sent an HTTP request to an HTTPS server.`): the registry client then asks again
 * over HTTPS, so the user sees it only when that is impossible.
 */
export class HttpsOnlyError extends TlsError {}
/** A registry response that may succeed when asked again later (5xx, 429) or a reset connection. */
export class TransientError extends RegistryError {
  constructor(
    message: string,
    readonly retryAfterMs?: number,
    options?: {cause?: unknown},
  ) {
    super(message, options)
  }
}
/** Content did not match its digest or size, or is otherwise malformed. */
export class IntegrityError extends CtrError {}
/** A layer that cannot be unpacked safely (escape attempt, bomb, corrupt tar). */
export class LayerError extends CtrError {}
/**
 * A tar entry name or link target the unpacker refuses. Internal to the unpacker, deliberately
 * not a CtrError: layer/unpack.ts turns it into a LayerError naming the layer and the entry.
 */
export class UnsafePathError extends Error {}

/** A directory ctr-ts would keep private state in is owned or writable by someone else. */
export class UnsafeDirectoryError extends CtrError {}

/** The machine lacks a prerequisite (newuidmap, fuse-overlayfs, runc, ...). */
export class PrerequisiteError extends CtrError {}
/** The OCI runtime or the shim failed. */
export class RuntimeError extends CtrError {}
/** The container command could not be invoked (permission denied, not executable). */
export class CommandNotInvokableError extends CtrError {
  override readonly exitCode = 126
}
/** The container command was not found. */
export class CommandNotFoundError extends CtrError {
  override readonly exitCode = 127
}

/** Exit the CLI with a given code and no message (a container's exit code). */
export class ExitCodeSignal extends Error {
  constructor(readonly code: number) {
    super(`exit ${code}`)
  }
}

/** One line, no stack: what the user sees for any error. */
export function describeError(err: unknown): {message: string; exitCode: number} {
  if (err instanceof CtrError) return {message: err.message, exitCode: err.exitCode}
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    if (code === 'EACCES' || code === 'EPERM') return {message: `permission denied: ${err.message}`, exitCode: 125}
    if (code === 'ENOSPC') {
      const path = (err as NodeJS.ErrnoException).path
      return {message: `no space left on device${path ? ` (${path})` : ''}`, exitCode: 125}
    }
    return {message: err.message.split('\n')[0] ?? String(err), exitCode: 125}
  }
  return {message: String(err), exitCode: 125}
}

/**
 * The commands that keep docker's 125/126/127 (their own errors vs. the container command's);
 * `healthcheck run` keeps podman's contract: 1 is an unhealthy check, 125 an error.
 */
const RUN_FAMILY: ReadonlySet<string> = new Set(['run', 'create', 'exec', 'container:run', 'container:create', 'container:exec', 'healthcheck:run'])

/**
 * The exit code a command ends with for an error's code: docker's 125/126/127 belong to
 * run/create/exec; every other command exits 1 on an error (as docker and podman do), except for
 * a flag docker's parser refuses (unknown flag, bad flag value), which is 125 everywhere.
 */
export function commandExitCode(code: number, commandId: string | undefined, flagError = false): number {
  if (flagError || code === 0 || RUN_FAMILY.has(commandId ?? '')) return code
  return code === 125 || code === 126 || code === 127 ? 1 : code
}
/** A container without a healthcheck asked for one (podman: "container has no defined healthcheck"; exit 125). */
export class NoHealthcheckError extends NotFoundError {}
/** `build` failed: a Dockerfile error (naming the file and line) or a step that failed; docker exits 1. */
export class BuildError extends CtrError {
  override readonly exitCode = 1
}
/**
 * A compose file that cannot be used: `FILE: PATH: PROBLEM` on one line (PATH dotted as
 * `services.web.ports[0]`; left out for problems of the whole file). Exit 1 as every compose command.
 */
export class ComposeFileError extends ConfigError {
  override readonly exitCode = 1
  constructor(
    readonly file: string,
    readonly path: readonly string[],
    readonly problem: string,
  ) {
    const where = path.reduce((acc, seg) => (seg.startsWith('[') || acc === '' ? acc + seg : `${acc}.${seg}`), '')
    super(where ? `${file}: ${where}: ${problem}` : `${file}: ${problem}`)
  }
}
/** compose: a dependency that never became healthy or did not complete, a service that cannot be run as asked. */
export class ComposeRunError extends CtrError {
  override readonly exitCode = 1
}
